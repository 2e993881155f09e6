/* SPDX-License-Identifier: MIT */
/* ebpfdsl: the one public C header. Assemble, disassemble and print eBPF
 * instructions, and load and run them through the kernel; usable without Lua. */
#ifndef EBPFDSL_H
#define EBPFDSL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EBPFDSL_API __attribute__((visibility("default")))
#else
#define EBPFDSL_API
#endif

/* ------------------------------------------------------------------------
 * The instruction set, as one table.
 *
 * X(id, name, code, shape, aux, cpu)
 *   id     enum suffix: EBPFDSL_OP_<id>
 *   name   the mnemonic Lua and C users write ("add", "jeq32", "ldx")
 *   code   the opcode byte without the source bit (BPF_X) and without the
 *          size bits for sized shapes; those come from the operands
 *   shape  which operands the instruction takes and how it prints
 *   aux    the field that tells rows with one opcode apart: off for
 *          sdiv/smod, src for calls and lddw pseudo forms, imm for atomics
 *   cpu    first -mcpu level that has it (1..4), as LLVM and the kernel
 *          name them
 * Encoder, decoder, validator, printer and the Lua mnemonic list are all
 * expansions of this table. ORDER ISA: keep rows with one opcode together.
 * ------------------------------------------------------------------------ */
#define EBPFDSL_ISA(X) \
	X(ADD,      "add",      0x07, ALU,   0, 1) \
	X(ADD32,    "add32",    0x04, ALU,   0, 1) \
	X(SUB,      "sub",      0x17, ALU,   0, 1) \
	X(SUB32,    "sub32",    0x14, ALU,   0, 1) \
	X(MUL,      "mul",      0x27, ALU,   0, 1) \
	X(MUL32,    "mul32",    0x24, ALU,   0, 1) \
	X(DIV,      "div",      0x37, ALU,   0, 1) \
	X(DIV32,    "div32",    0x34, ALU,   0, 1) \
	X(SDIV,     "sdiv",     0x37, ALU,   1, 4) \
	X(SDIV32,   "sdiv32",   0x34, ALU,   1, 4) \
	X(OR,       "or",       0x47, ALU,   0, 1) \
	X(OR32,     "or32",     0x44, ALU,   0, 1) \
	X(AND,      "and",      0x57, ALU,   0, 1) \
	X(AND32,    "and32",    0x54, ALU,   0, 1) \
	X(LSH,      "lsh",      0x67, ALU,   0, 1) \
	X(LSH32,    "lsh32",    0x64, ALU,   0, 1) \
	X(RSH,      "rsh",      0x77, ALU,   0, 1) \
	X(RSH32,    "rsh32",    0x74, ALU,   0, 1) \
	X(NEG,      "neg",      0x87, NEG,   0, 1) \
	X(NEG32,    "neg32",    0x84, NEG,   0, 1) \
	X(MOD,      "mod",      0x97, ALU,   0, 1) \
	X(MOD32,    "mod32",    0x94, ALU,   0, 1) \
	X(SMOD,     "smod",     0x97, ALU,   1, 4) \
	X(SMOD32,   "smod32",   0x94, ALU,   1, 4) \
	X(XOR,      "xor",      0xa7, ALU,   0, 1) \
	X(XOR32,    "xor32",    0xa4, ALU,   0, 1) \
	X(MOV,      "mov",      0xb7, ALU,   0, 1) \
	X(MOV32,    "mov32",    0xb4, ALU,   0, 1) \
	X(MOVSX,    "movsx",    0xbf, MOVSX, 0, 4) \
	X(MOVSX32,  "movsx32",  0xbc, MOVSX, 0, 4) \
	X(ARSH,     "arsh",     0xc7, ALU,   0, 1) \
	X(ARSH32,   "arsh32",   0xc4, ALU,   0, 1) \
	X(LE,       "le",       0xd4, END,   0, 1) \
	X(BE,       "be",       0xdc, END,   0, 1) \
	X(BSWAP,    "bswap",    0xd7, END,   0, 4) \
	X(JA,       "ja",       0x05, JA,    0, 1) \
	X(GOTOL,    "gotol",    0x06, GOTOL, 0, 4) \
	X(JEQ,      "jeq",      0x15, JCOND, 0, 1) \
	X(JEQ32,    "jeq32",    0x16, JCOND, 0, 3) \
	X(JGT,      "jgt",      0x25, JCOND, 0, 1) \
	X(JGT32,    "jgt32",    0x26, JCOND, 0, 3) \
	X(JGE,      "jge",      0x35, JCOND, 0, 1) \
	X(JGE32,    "jge32",    0x36, JCOND, 0, 3) \
	X(JSET,     "jset",     0x45, JCOND, 0, 1) \
	X(JSET32,   "jset32",   0x46, JCOND, 0, 3) \
	X(JNE,      "jne",      0x55, JCOND, 0, 1) \
	X(JNE32,    "jne32",    0x56, JCOND, 0, 3) \
	X(JSGT,     "jsgt",     0x65, JCOND, 0, 1) \
	X(JSGT32,   "jsgt32",   0x66, JCOND, 0, 3) \
	X(JSGE,     "jsge",     0x75, JCOND, 0, 1) \
	X(JSGE32,   "jsge32",   0x76, JCOND, 0, 3) \
	X(JLT,      "jlt",      0xa5, JCOND, 0, 2) \
	X(JLT32,    "jlt32",    0xa6, JCOND, 0, 3) \
	X(JLE,      "jle",      0xb5, JCOND, 0, 2) \
	X(JLE32,    "jle32",    0xb6, JCOND, 0, 3) \
	X(JSLT,     "jslt",     0xc5, JCOND, 0, 2) \
	X(JSLT32,   "jslt32",   0xc6, JCOND, 0, 3) \
	X(JSLE,     "jsle",     0xd5, JCOND, 0, 2) \
	X(JSLE32,   "jsle32",   0xd6, JCOND, 0, 3) \
	X(CALL,     "call",       0x85, CALL,       0, 1) \
	X(CALL_LOCAL, "call_local", 0x85, CALL_LOCAL, 1, 1) \
	X(CALL_KFUNC, "call_kfunc", 0x85, CALL_KFUNC, 2, 1) \
	X(EXIT,     "exit",     0x95, EXIT,  0, 1) \
	X(LDDW,     "lddw",             0x18, LDDW,    0, 1) \
	X(LD_MAP_FD, "ld_map_fd",       0x18, LD_IMM,  1, 1) \
	X(LD_MAP_VALUE, "ld_map_value", 0x18, LD_MAPV, 2, 1) \
	X(LD_BTF_ID, "ld_btf_id",       0x18, LD_IMM,  3, 1) \
	X(LD_FUNC,  "ld_func",          0x18, LD_FUNC, 4, 1) \
	X(LD_MAP_IDX, "ld_map_idx",     0x18, LD_IMM,  5, 1) \
	X(LD_MAP_IDX_VALUE, "ld_map_idx_value", 0x18, LD_MAPV, 6, 1) \
	X(LD_ABS,   "ld_abs",   0x20, LD_ABS, 0, 1) \
	X(LD_IND,   "ld_ind",   0x40, LD_IND, 0, 1) \
	X(LDX,      "ldx",      0x61, LDX,   0, 1) \
	X(LDSX,     "ldsx",     0x81, LDSX,  0, 4) \
	X(ST,       "st",       0x62, ST,    0, 1) \
	X(STX,      "stx",      0x63, STX,   0, 1) \
	X(ATOMIC_ADD, "atomic_add",             0xc3, ATOMIC, 0x00, 1) \
	X(ATOMIC_OR,  "atomic_or",              0xc3, ATOMIC, 0x40, 3) \
	X(ATOMIC_AND, "atomic_and",             0xc3, ATOMIC, 0x50, 3) \
	X(ATOMIC_XOR, "atomic_xor",             0xc3, ATOMIC, 0xa0, 3) \
	X(ATOMIC_FETCH_ADD, "atomic_fetch_add", 0xc3, ATOMIC, 0x01, 3) \
	X(ATOMIC_FETCH_OR,  "atomic_fetch_or",  0xc3, ATOMIC, 0x41, 3) \
	X(ATOMIC_FETCH_AND, "atomic_fetch_and", 0xc3, ATOMIC, 0x51, 3) \
	X(ATOMIC_FETCH_XOR, "atomic_fetch_xor", 0xc3, ATOMIC, 0xa1, 3) \
	X(XCHG,     "xchg",     0xc3, ATOMIC, 0xe1, 3) \
	X(CMPXCHG,  "cmpxchg",  0xc3, ATOMIC, 0xf1, 3) \
	X(RAW,      "raw",      0x00, RAW,   0, 1)

enum ebpfdsl_mnemonic {
#define EBPFDSL_ENUM_(id, name, code, shape, aux, cpu) EBPFDSL_OP_##id,
	EBPFDSL_ISA(EBPFDSL_ENUM_)
#undef EBPFDSL_ENUM_
	EBPFDSL_OP_COUNT_
};

/* Operand shapes: which fields an instruction takes. */
enum ebpfdsl_shape {
	EBPFDSL_SHAPE_ALU,        /* dst, src or imm */
	EBPFDSL_SHAPE_NEG,        /* dst */
	EBPFDSL_SHAPE_MOVSX,      /* dst, src, bits 8/16/32 */
	EBPFDSL_SHAPE_END,        /* dst, bits 16/32/64 */
	EBPFDSL_SHAPE_JA,         /* target or 16-bit off */
	EBPFDSL_SHAPE_GOTOL,      /* target or 32-bit off */
	EBPFDSL_SHAPE_JCOND,      /* dst, src or imm, target or off */
	EBPFDSL_SHAPE_CALL,       /* imm: helper id */
	EBPFDSL_SHAPE_CALL_LOCAL, /* target or imm (relative) */
	EBPFDSL_SHAPE_CALL_KFUNC, /* imm: BTF id, off: fd_array index */
	EBPFDSL_SHAPE_EXIT,
	EBPFDSL_SHAPE_LDDW,       /* dst, 64-bit imm */
	EBPFDSL_SHAPE_LD_IMM,     /* dst, 32-bit imm (map fd/idx, BTF id) */
	EBPFDSL_SHAPE_LD_MAPV,    /* dst, imm (map fd/idx), aux (value offset) */
	EBPFDSL_SHAPE_LD_FUNC,    /* dst, target or imm (relative) */
	EBPFDSL_SHAPE_LD_ABS,     /* size b/h/w, imm */
	EBPFDSL_SHAPE_LD_IND,     /* size b/h/w, src, imm */
	EBPFDSL_SHAPE_LDX,        /* size, dst, src, off */
	EBPFDSL_SHAPE_LDSX,       /* size b/h/w, dst, src, off */
	EBPFDSL_SHAPE_ST,         /* size, dst, off, imm */
	EBPFDSL_SHAPE_STX,        /* size, dst, off, src */
	EBPFDSL_SHAPE_ATOMIC,     /* size w/dw, dst, off, src */
	EBPFDSL_SHAPE_RAW         /* code, dst, src, off, imm as given */
};

/* Memory access sizes, as the opcode encodes them. */
enum ebpfdsl_size {
	EBPFDSL_SIZE_W = 0x00,
	EBPFDSL_SIZE_H = 0x08,
	EBPFDSL_SIZE_B = 0x10,
	EBPFDSL_SIZE_DW = 0x18
};

/* Which fields of an ebpfdsl_op are set. */
enum {
	EBPFDSL_HAS_DST = 1u << 0,
	EBPFDSL_HAS_SRC = 1u << 1,
	EBPFDSL_HAS_IMM = 1u << 2,
	EBPFDSL_HAS_OFF = 1u << 3,
	EBPFDSL_HAS_SIZE = 1u << 4,
	EBPFDSL_HAS_BITS = 1u << 5,
	EBPFDSL_HAS_TARGET = 1u << 6,
	EBPFDSL_HAS_AUX = 1u << 7,
	EBPFDSL_HAS_CODE = 1u << 8
};

/* One instruction as the user wrote it: the C twin of the Lua table
 * {op="add", dst="r1", imm=5}. Wide integer fields let range errors be
 * reported instead of silently truncated. */
struct ebpfdsl_op {
	int op;             /* enum ebpfdsl_mnemonic */
	unsigned has;       /* EBPFDSL_HAS_* */
	int dst, src;       /* registers 0..10 */
	int size;           /* enum ebpfdsl_size */
	int bits;           /* movsx: 8/16/32; le/be/bswap: 16/32/64 */
	int code;           /* raw: the opcode byte */
	int64_t off;        /* memory offset, or jump distance in slots */
	int64_t imm;        /* immediate (64 bits for lddw) */
	int64_t aux;        /* ld_map_value: offset into the map value */
	const char *target; /* label a jump, local call or ld_func goes to */
};

/* Facts about one mnemonic, for tools that walk the table. */
struct ebpfdsl_isa_row {
	const char *name;
	uint8_t code;
	uint8_t shape; /* enum ebpfdsl_shape */
	uint8_t aux;
	uint8_t cpu;
};

EBPFDSL_API const struct ebpfdsl_isa_row *ebpfdsl_isa_row(int op);
/* Mnemonic by name, or -1. */
EBPFDSL_API int ebpfdsl_isa_lookup(const char *name);
/* Register by name ("r0".."r10", "fp"), or -1. */
EBPFDSL_API int ebpfdsl_reg_parse(const char *name);
/* Size by name ("b", "h", "w", "dw"), or -1; and back. */
EBPFDSL_API int ebpfdsl_size_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_size_name(int size);
/* Slots the instruction takes in the program (2 for lddw and its kin). */
EBPFDSL_API int ebpfdsl_op_slots(const struct ebpfdsl_op *op);

/* Shorthands for C users; each returns a filled ebpfdsl_op. */
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_imm(int op, int dst, int64_t imm);
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_reg(int op, int dst, int src);
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_jmp_imm(int op, int dst, int64_t imm, const char *target);
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_jmp_reg(int op, int dst, int src, const char *target);
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_mem(int op, int size, int dst, int src, int64_t off);
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_call(int64_t helper_id);
EBPFDSL_API struct ebpfdsl_op ebpfdsl_op_exit(void);

/* ------------------------------------------------------------------------
 * Helper functions, generated from __BPF_FUNC_MAPPER in <linux/bpf.h>.
 * ------------------------------------------------------------------------ */

/* Id of a helper named with or without the "bpf_" prefix, or -1. */
EBPFDSL_API int ebpfdsl_helper_id(const char *name);
/* Name without the prefix ("map_lookup_elem"), or NULL. */
EBPFDSL_API const char *ebpfdsl_helper_name(int id);
/* Number of helper ids known (the largest id + 1). */
EBPFDSL_API int ebpfdsl_helper_count(void);
/* Writes up to `max` known names closest to `name` into `out`; returns
 * how many. For "did you mean" messages. */
EBPFDSL_API int ebpfdsl_helper_suggest(const char *name, const char **out, int max);

/* ------------------------------------------------------------------------
 * The assembler: emit instructions and labels, then finalize once.
 * The first error is kept; later calls do nothing and return -1, so
 * emitting code reads as a straight list checked once at the end.
 * ------------------------------------------------------------------------ */

typedef struct ebpfdsl_asm ebpfdsl_asm;

struct ebpfdsl_asm_opts {
	size_t sz;    /* sizeof(struct ebpfdsl_asm_opts) */
	int cpu;      /* 1..4, the newest instructions allowed; 0 means 4 */
	int no_relax; /* nonzero: a jump out of 16-bit range is an error
	               * instead of becoming gotol */
};

EBPFDSL_API ebpfdsl_asm *ebpfdsl_asm__new(const struct ebpfdsl_asm_opts *opts);
EBPFDSL_API void ebpfdsl_asm__free(ebpfdsl_asm *a);
EBPFDSL_API int ebpfdsl_asm__emit(ebpfdsl_asm *a, const struct ebpfdsl_op *op);
EBPFDSL_API int ebpfdsl_asm__label(ebpfdsl_asm *a, const char *name);
/* Resolves labels, relaxes long jumps and encodes. 0 or -1. */
EBPFDSL_API int ebpfdsl_asm__finalize(ebpfdsl_asm *a);
/* The encoded program, valid until the assembler is freed. */
EBPFDSL_API const struct bpf_insn *ebpfdsl_asm__insns(const ebpfdsl_asm *a, size_t *cnt);
/* The first error, or NULL. */
EBPFDSL_API const char *ebpfdsl_asm__error(const ebpfdsl_asm *a);
/* Slots emitted so far, before relaxation: the index the next
 * instruction gets in error messages. */
EBPFDSL_API size_t ebpfdsl_asm__count(const ebpfdsl_asm *a);
/* After finalize: the i-th label's name and final slot; -ENOENT past the
 * last one. For printers that show the user's own label names. */
EBPFDSL_API int ebpfdsl_asm__label_at(const ebpfdsl_asm *a, size_t i, const char **name, size_t *slot);

/* ------------------------------------------------------------------------
 * Decoding and printing.
 * ------------------------------------------------------------------------ */

/* Decodes the instruction at insns[pc] (of cnt) into *op, with jumps as
 * relative `off` (no target). Returns the slots used (1 or 2). Bytes no
 * row encodes exactly decode as op "raw", so nothing is lost. */
EBPFDSL_API int ebpfdsl_decode(const struct bpf_insn *insns, size_t cnt, size_t pc,
			       struct ebpfdsl_op *op);
/* For a decoded jump, local call or ld_func at pc: the slot it goes to,
 * or -1 when the instruction does not go anywhere. */
EBPFDSL_API int64_t ebpfdsl_op_jump_target(const struct ebpfdsl_op *op, size_t pc);
/* Prints a decoded instruction in LLVM's BPF syntax as llvm-objdump-19
 * --mcpu=v4 does ("r0 = 0x5", "if r1 > 0x5 goto +0x3"). `annot`, when not
 * NULL, is appended as " <annot>" after jumps and calls. Returns the
 * length snprintf would. */
EBPFDSL_API int ebpfdsl_op_print(char *buf, size_t len, const struct ebpfdsl_op *op,
				 const char *annot);

/* ------------------------------------------------------------------------
 * The kernel: program types, loading and test runs (csrc/kernel).
 * Functions return a file descriptor or 0 on success, -errno on failure.
 * ------------------------------------------------------------------------ */

/* "socket_filter" <-> BPF_PROG_TYPE_SOCKET_FILTER, as libbpf names them. */
EBPFDSL_API int ebpfdsl_prog_type_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_prog_type_name(int type);

struct ebpfdsl_prog_load_opts {
	size_t sz;                /* sizeof(struct ebpfdsl_prog_load_opts) */
	const char *name;         /* up to 15 characters kept by the kernel */
	const char *license;      /* default "GPL" */
	int expected_attach_type; /* enum bpf_attach_type, 0 for none */
	unsigned attach_btf_id;
	unsigned prog_flags;
	unsigned log_level;       /* 0: log only if the load fails */
	char *log_buf;            /* receives the verifier log; may be NULL */
	size_t log_size;
	/* tracing (fentry/fexit/fmod_ret/tp_btf/iter) and lsm programs: the
	 * kernel function, tracepoint, hook or iterator to attach to, turned
	 * into attach_btf_id (see ebpfdsl_btf__attach_id); struct_ops
	 * programs: "struct.member" (see ebpfdsl_btf__struct_ops_member),
	 * which sets expected_attach_type too */
	const char *attach_to;
	const struct ebpfdsl_btf *attach_btf; /* NULL: the kernel's own */
	int attach_prog_fd;       /* ext programs: the program replaced */
};

/* Loads a program; returns its fd or -errno. When the load fails and a
 * log buffer was given, the verifier's log is in it. */
EBPFDSL_API int ebpfdsl_prog__load(int type, const struct bpf_insn *insns, size_t cnt,
				   const struct ebpfdsl_prog_load_opts *opts);

struct ebpfdsl_test_run {
	size_t sz;            /* sizeof(struct ebpfdsl_test_run) */
	const void *data_in;
	size_t data_size_in;
	void *data_out;       /* may be NULL */
	size_t data_size_out; /* in: capacity; out: bytes written */
	const void *ctx_in;
	size_t ctx_size_in;
	void *ctx_out;
	size_t ctx_size_out;
	unsigned repeat;
	unsigned flags;
	uint32_t retval;      /* out */
	uint32_t duration;    /* out: average ns per run */
};

EBPFDSL_API int ebpfdsl_prog__test_run(int prog_fd, struct ebpfdsl_test_run *run);

/* ========================================================================
 * BTF, programs (attach types, info, pinning, the verifier's log) and ELF
 * objects: csrc/kernel/btf*.c, prog*.c, object.c, csrc/core/vlog.c.
 * Pointer-returning constructors return NULL and set errno.
 * ======================================================================== */

/* ---- BTF ---------------------------------------------------------------- */

typedef struct ebpfdsl_btf ebpfdsl_btf;

/* The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once on first
 * use and shared by every caller in the process; never freed. */
EBPFDSL_API const ebpfdsl_btf *ebpfdsl_btf__vmlinux(void);
/* A raw BTF file or an ELF file with a .BTF section; `base`, when not NULL,
 * is the BTF a split file (a kernel module's) extends. */
EBPFDSL_API ebpfdsl_btf *ebpfdsl_btf__load(const char *path, const ebpfdsl_btf *base);
/* Frees what ebpfdsl_btf__load returned; NULL and the shared vmlinux BTF
 * are ignored. */
EBPFDSL_API void ebpfdsl_btf__free(ebpfdsl_btf *b);
/* Where the BTF came from: "vmlinux" or the path given. */
EBPFDSL_API const char *ebpfdsl_btf__source(const ebpfdsl_btf *b);
/* Ids run from 1 to count - 1; 0 is void. */
EBPFDSL_API uint32_t ebpfdsl_btf__type_count(const ebpfdsl_btf *b);
/* Id of the type called `name` of the given kind (BTF_KIND_*), or -ENOENT.
 * Kind 0 takes any kind, preferring struct, union, typedef, enum, int,
 * float, func, var in that order when one name has several. */
EBPFDSL_API int ebpfdsl_btf__find(const ebpfdsl_btf *b, const char *name, int kind);
/* "struct", "func_proto", "enum64"... as lowercase BTF_KIND_ names; and back
 * (-1 when unknown). */
EBPFDSL_API const char *ebpfdsl_btf_kind_name(int kind);
EBPFDSL_API int ebpfdsl_btf_kind_parse(const char *name);

/* One type, flattened: which fields mean something depends on the kind. */
struct ebpfdsl_btf_type {
	uint32_t id;
	int kind;              /* BTF_KIND_* */
	const char *name;      /* "" when anonymous */
	uint32_t size;         /* bytes: int, float, struct, union, enum, datasec */
	uint32_t type;         /* the type referred to: ptr, typedef, modifiers,
	                        * array element, func (its proto), func_proto
	                        * (return), var, decl_tag, type_tag */
	uint32_t vlen;         /* members, params, enum values, section vars */
	int kflag;             /* bitfield offsets (composites), signed (enums) */
	uint32_t nelems;       /* array */
	uint32_t index_type;   /* array */
	int int_encoding;      /* int: BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL */
	int int_bits, int_offset;
	int linkage;           /* func: 0 static, 1 global, 2 extern; var too */
	int component_idx;     /* decl_tag: -1 for the type itself */
};
EBPFDSL_API int ebpfdsl_btf__type(const ebpfdsl_btf *b, uint32_t id, struct ebpfdsl_btf_type *t);

/* Member i of a struct or union, parameter i of a func_proto (name and type
 * only), variable i of a datasec (type is the var, bit_offset its byte
 * offset times 8, bitfield_size its size in bytes). */
struct ebpfdsl_btf_member {
	const char *name;
	uint32_t type;
	uint32_t bit_offset;
	uint32_t bitfield_size; /* 0 unless a bitfield */
};
EBPFDSL_API int ebpfdsl_btf__member(const ebpfdsl_btf *b, uint32_t id, uint32_t i,
				    struct ebpfdsl_btf_member *m);
/* Value i of an enum or enum64; `value` holds the bits (two's complement
 * for unsigned 64-bit values past INT64_MAX); *is_signed says how to read. */
EBPFDSL_API int ebpfdsl_btf__enum_value(const ebpfdsl_btf *b, uint32_t id, uint32_t i, const char **name,
					int64_t *value, int *is_signed);
/* Size in bytes through typedefs, modifiers and arrays; -errno. */
EBPFDSL_API int64_t ebpfdsl_btf__size(const ebpfdsl_btf *b, uint32_t id);
/* The id behind typedefs, modifiers and type tags. */
EBPFDSL_API int ebpfdsl_btf__skip_mods(const ebpfdsl_btf *b, uint32_t id);
/* A C declaration of `name` with type `id`, as bpftool's "format c" spells
 * it ("char comm[16]", "struct list_head *next"); with name NULL or "" the
 * type alone ("struct task_struct *"). Anonymous structs, unions and enums
 * print as "struct {...}". Returns the length snprintf would, or -errno. */
EBPFDSL_API int ebpfdsl_btf__decl(const ebpfdsl_btf *b, uint32_t id, const char *name, char *buf, size_t len);

/* Where a member path lands in a struct: "se.vruntime", "comm[3]",
 * "sighand->..." is not a path (no pointers are followed). Members of
 * anonymous structs and unions are found through them. */
struct ebpfdsl_btf_field {
	uint32_t bit_offset;    /* from the start of the outer type */
	uint32_t byte_offset;   /* bit_offset / 8 */
	uint32_t bitfield_size; /* 0 unless the path ends at a bitfield */
	uint32_t type;          /* the member's type as declared */
	int64_t size;           /* its size in bytes */
	size_t err_pos;         /* on -ENOENT/-EINVAL/-ERANGE: where in the
	                         * path resolution stopped */
};
EBPFDSL_API int ebpfdsl_btf__offsetof(const ebpfdsl_btf *b, uint32_t type_id, const char *path,
				      struct ebpfdsl_btf_field *f);

/* The BTF id a tracing, LSM, or iterator program of `attach_type`
 * (enum bpf_attach_type) attaches to, found by name as libbpf does:
 * fentry/fexit/fmod_ret: the function; tp_btf: typedef "btf_trace_<name>";
 * lsm: function "bpf_lsm_<hook>"; iter: function "bpf_iter_<name>".
 * Returns the id or -ENOENT; -EINVAL for an attach type that takes none. */
EBPFDSL_API int ebpfdsl_btf__attach_id(const ebpfdsl_btf *b, int attach_type, const char *name);

/* struct_ops programs implement one member of a kernel struct of function
 * pointers: "tcp_congestion_ops.ssthresh" gives the struct's id in
 * *struct_id (the program's attach_btf_id) and returns the member's index
 * (its expected_attach_type); -ENOENT, -EINVAL. */
EBPFDSL_API int ebpfdsl_btf__struct_ops_member(const ebpfdsl_btf *b, const char *path, uint32_t *struct_id);

/* ---- Program types and attach types beyond libbpf's list ---------------- */

/* enum bpf_attach_type <-> "trace_fentry", named as libbpf names them and,
 * for types newer than this libbpf, as the running kernel's BTF does
 * (BPF_NETFILTER -> "netfilter"). The program type functions above use the
 * kernel's BTF the same way. */
EBPFDSL_API int ebpfdsl_attach_type_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_attach_type_name(int type);

/* ---- Loaded programs: info, xlated code, pinning ------------------------- */

/* The kernel's description of a loaded program. `map_ids`, when not NULL,
 * receives up to *nr_map_ids ids and *nr_map_ids is set to the count. */
EBPFDSL_API int ebpfdsl_prog__info(int prog_fd, struct bpf_prog_info *info, uint32_t *map_ids,
				   uint32_t *nr_map_ids);
/* The instructions as the kernel keeps them (after its rewrites), in a
 * malloc'd buffer the caller frees. */
EBPFDSL_API int ebpfdsl_prog__xlated(int prog_fd, struct bpf_insn **insns, size_t *cnt);
/* Pins at `path` on a BPF filesystem, mounting bpffs at /sys/fs/bpf first
 * when the path is under it and nothing is mounted there. */
EBPFDSL_API int ebpfdsl_prog__pin(int prog_fd, const char *path);
/* A new fd for the program pinned at path; -EINVAL if it is no program. */
EBPFDSL_API int ebpfdsl_prog__open_pinned(const char *path);

/* ---- The verifier's log -------------------------------------------------- */

struct ebpfdsl_label {
	const char *name;
	size_t slot;
};

/* From a refusal's log: the instruction the verifier stopped at (its last
 * "N: (xx) ..." line, or "insn N" in the reason), printed with our
 * disassembler and placed after the nearest label, then the verifier's last
 * lines: "insn 12 (after label 'out'): r2 = *(u64 *)(r1 + 0x8): invalid mem
 * access 'scalar'". Returns the instruction index, or -1 when the log names
 * none (out then holds only the reason); out is always terminated. */
EBPFDSL_API int ebpfdsl_vlog_explain(const char *log, const struct bpf_insn *insns, size_t cnt,
				     const struct ebpfdsl_label *labels, size_t nlabels, char *out, size_t len);

/* The whole log with each instruction line ("12: (79) r2 = *(u64 *)(r1
 * +8)") printed by our disassembler instead, the kernel's state comments
 * kept, and a "label:" line before an instruction a label names. Returns
 * the length snprintf would; out is always terminated. */
EBPFDSL_API int ebpfdsl_vlog_annotate(const char *log, const struct bpf_insn *insns, size_t cnt,
				      const struct ebpfdsl_label *labels, size_t nlabels, char *out, size_t len);

/* ---- ELF objects built by clang, through libbpf --------------------------- */

typedef struct ebpfdsl_object ebpfdsl_object;

/* Opens (does not load) an object from a file or from memory (copied);
 * `name` names an object opened from memory. What libbpf said on the way
 * goes to msg (when given): the reason for a failure. */
EBPFDSL_API ebpfdsl_object *ebpfdsl_object__open(const char *path, char *msg, size_t msg_size);
EBPFDSL_API ebpfdsl_object *ebpfdsl_object__open_mem(const void *data, size_t size, const char *name, char *msg,
						     size_t msg_size);
EBPFDSL_API void ebpfdsl_object__free(ebpfdsl_object *o);
EBPFDSL_API const char *ebpfdsl_object__name(const ebpfdsl_object *o);
/* Loads every program and creates every map; what libbpf said (with the
 * verifier's log of a refused program) lands in log (when given). */
EBPFDSL_API int ebpfdsl_object__load(ebpfdsl_object *o, char *log, size_t log_size);
EBPFDSL_API int ebpfdsl_object__loaded(const ebpfdsl_object *o);
EBPFDSL_API size_t ebpfdsl_object__prog_count(const ebpfdsl_object *o);
EBPFDSL_API size_t ebpfdsl_object__map_count(const ebpfdsl_object *o);

struct ebpfdsl_object_prog {
	const char *name;
	const char *section;
	int type;                 /* enum bpf_prog_type */
	int expected_attach_type; /* enum bpf_attach_type */
	const struct bpf_insn *insns;
	size_t insn_cnt;
	int fd;                   /* -1 before load */
};
struct ebpfdsl_object_map {
	const char *name;
	int type;                 /* enum bpf_map_type */
	const char *type_name;    /* "hash", as libbpf names it; NULL if unknown */
	uint32_t key_size, value_size, max_entries, flags;
	int fd;                   /* -1 before load (unless reused) */
};
/* The i-th program or map (in the object's order); -ENOENT past the end. */
EBPFDSL_API int ebpfdsl_object__prog(const ebpfdsl_object *o, size_t i, struct ebpfdsl_object_prog *p);
EBPFDSL_API int ebpfdsl_object__map(const ebpfdsl_object *o, size_t i, struct ebpfdsl_object_map *m);
/* Index by name, or -ENOENT. */
EBPFDSL_API int ebpfdsl_object__find_prog(const ebpfdsl_object *o, const char *name);
EBPFDSL_API int ebpfdsl_object__find_map(const ebpfdsl_object *o, const char *name);
/* Before load: the map uses an existing map (fd is duplicated), so DSL
 * programs and the object share it. */
EBPFDSL_API int ebpfdsl_object__reuse_map(ebpfdsl_object *o, size_t i, int map_fd);
/* Before load: whether program i is loaded at all. */
EBPFDSL_API int ebpfdsl_object__set_autoload(ebpfdsl_object *o, size_t i, int on);

typedef struct ebpfdsl_object_link ebpfdsl_object_link;
/* Attaches program i as its section name says (libbpf's
 * bpf_program__attach): "tp/syscalls/sys_enter_getppid", "fentry/...",
 * "raw_tp/...". */
EBPFDSL_API ebpfdsl_object_link *ebpfdsl_object__attach(ebpfdsl_object *o, size_t i, char *msg, size_t msg_size);
EBPFDSL_API int ebpfdsl_object_link__fd(const ebpfdsl_object_link *l);
/* Detaches and frees. */
EBPFDSL_API void ebpfdsl_object_link__free(ebpfdsl_object_link *l);

#ifdef __cplusplus
}
#endif

#endif /* EBPFDSL_H */
