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

/* ------------------------------------------------------------------------
 * Attach and links (csrc/kernel/attach_*.c, link.c, elf_sym.c).
 * Every ebpfdsl_attach_* returns 0 and sets *out, or returns -errno; when
 * `err` is not NULL it then receives one line saying what was tried and
 * why it failed ("tracepoint syscalls/sys_enter_nope: no such tracepoint
 * (/sys/kernel/tracing/events/syscalls/sys_enter_nope/id: ...)").
 * A link owns what the attachment needs; ebpfdsl_link__free detaches.
 * ------------------------------------------------------------------------ */

typedef struct ebpfdsl_link ebpfdsl_link;

enum ebpfdsl_link_kind {
	EBPFDSL_LINK_KPROBE,
	EBPFDSL_LINK_KPROBE_MULTI,
	EBPFDSL_LINK_UPROBE,
	EBPFDSL_LINK_TRACEPOINT,
	EBPFDSL_LINK_RAW_TRACEPOINT,
	EBPFDSL_LINK_TRACING,      /* fentry, fexit, fmod_ret, lsm */
	EBPFDSL_LINK_PERF_EVENT,   /* sampling events, one per CPU */
	EBPFDSL_LINK_XDP,
	EBPFDSL_LINK_TC,
	EBPFDSL_LINK_SOCKET_FILTER,
	EBPFDSL_LINK_CGROUP,
	EBPFDSL_LINK_NETNS,        /* sk_lookup, flow_dissector */
	EBPFDSL_LINK_ITER,
	EBPFDSL_LINK_PINNED,       /* opened from a bpffs path */
	EBPFDSL_LINK_KIND_COUNT_
};

/* "kprobe", "tracepoint", ...; NULL for an unknown kind. */
EBPFDSL_API const char *ebpfdsl_link_kind_name(int kind);
/* "cgroup_inet_ingress" <-> BPF_CGROUP_INET_INGRESS, as libbpf names
 * them, including types newer than the installed headers. */
EBPFDSL_API int ebpfdsl_attach_type_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_attach_type_name(int type);

struct ebpfdsl_kprobe_opts {
	size_t sz;         /* sizeof(struct ebpfdsl_kprobe_opts) */
	uint64_t offset;   /* into the function */
	int retprobe;      /* nonzero: kretprobe */
	uint64_t cookie;   /* bpf_get_attach_cookie() */
};
/* Through the kprobe PMU, else tracefs kprobe_events; -EOPNOTSUPP when
 * the kernel has neither. */
EBPFDSL_API int ebpfdsl_attach_kprobe(int prog_fd, const char *func, const struct ebpfdsl_kprobe_opts *opts,
				      ebpfdsl_link **out, char *err, size_t errlen);

struct ebpfdsl_kprobe_multi_opts {
	size_t sz;              /* sizeof(struct ebpfdsl_kprobe_multi_opts) */
	const char *pattern;    /* a glob over traceable kernel functions, or */
	const char **syms;      /* cnt function names */
	size_t cnt;
	const uint64_t *cookies; /* NULL or one per name (not with pattern) */
	int retprobe;
	int no_fallback;        /* nonzero: no kprobe per function when the
	                         * kernel refuses kprobe_multi links */
};
/* The program must be loaded with expected_attach_type
 * BPF_TRACE_KPROBE_MULTI for the multi link, without it for the
 * per-function fallback. */
EBPFDSL_API int ebpfdsl_attach_kprobe_multi(int prog_fd, const struct ebpfdsl_kprobe_multi_opts *opts,
					    ebpfdsl_link **out, char *err, size_t errlen);

struct ebpfdsl_uprobe_opts {
	size_t sz;          /* sizeof(struct ebpfdsl_uprobe_opts) */
	const char *symbol; /* resolved in the file with libelf; or NULL */
	uint64_t offset;    /* file offset, added to the symbol's when both */
	int pid;            /* 0: every process; else only this one */
	int retprobe;       /* nonzero: uretprobe */
	uint64_t cookie;
};
/* `path` is a file, or a name looked up as ebpfdsl_find_binary does. */
EBPFDSL_API int ebpfdsl_attach_uprobe(int prog_fd, const char *path, const struct ebpfdsl_uprobe_opts *opts,
				      ebpfdsl_link **out, char *err, size_t errlen);

/* Tracepoint through a perf event of the tracefs id, then a
 * BPF_PERF_EVENT link (or PERF_EVENT_IOC_SET_BPF on older kernels). */
EBPFDSL_API int ebpfdsl_attach_tracepoint(int prog_fd, const char *category, const char *name, uint64_t cookie,
					  ebpfdsl_link **out, char *err, size_t errlen);
EBPFDSL_API int ebpfdsl_attach_raw_tracepoint(int prog_fd, const char *name, ebpfdsl_link **out, char *err,
					      size_t errlen);
/* fentry, fexit, fmod_ret, lsm: a program of type tracing or lsm loaded
 * with attach_btf_id; the target is the one named at load. */
EBPFDSL_API int ebpfdsl_attach_tracing(int prog_fd, ebpfdsl_link **out, char *err, size_t errlen);

struct ebpfdsl_perf_event_opts {
	size_t sz;              /* sizeof(struct ebpfdsl_perf_event_opts) */
	uint32_t type;          /* PERF_TYPE_SOFTWARE, PERF_TYPE_HARDWARE, ... */
	uint64_t config;        /* PERF_COUNT_SW_CPU_CLOCK, ... */
	uint64_t sample_period; /* one of these two; default freq 99 Hz */
	uint64_t sample_freq;
	int cpu;                /* -1: one event on every online CPU */
	int pid;                /* 0: any process (system wide) */
	uint64_t cookie;
};
/* "cpu-clock", "task-clock", "cycles", "instructions", ... as perf(1)
 * names them -> type and config; -ENOENT for an unknown name. */
EBPFDSL_API int ebpfdsl_perf_event_parse(const char *name, uint32_t *type, uint64_t *config);
EBPFDSL_API int ebpfdsl_attach_perf_event(int prog_fd, const struct ebpfdsl_perf_event_opts *opts,
					  ebpfdsl_link **out, char *err, size_t errlen);

enum ebpfdsl_xdp_mode {
	EBPFDSL_XDP_ANY = 0,     /* the driver's if it has one, else generic */
	EBPFDSL_XDP_GENERIC = 1, /* XDP_FLAGS_SKB_MODE */
	EBPFDSL_XDP_DRIVER = 2,  /* XDP_FLAGS_DRV_MODE */
	EBPFDSL_XDP_OFFLOAD = 3  /* XDP_FLAGS_HW_MODE */
};
struct ebpfdsl_xdp_opts {
	size_t sz;   /* sizeof(struct ebpfdsl_xdp_opts) */
	int mode;    /* enum ebpfdsl_xdp_mode */
	int netlink; /* nonzero: attach with bpf_xdp_attach (netlink), which
	              * outlives the process; default: a bpf link */
};
EBPFDSL_API int ebpfdsl_attach_xdp(int prog_fd, const char *ifname, const struct ebpfdsl_xdp_opts *opts,
				   ebpfdsl_link **out, char *err, size_t errlen);

struct ebpfdsl_tc_opts {
	size_t sz;         /* sizeof(struct ebpfdsl_tc_opts) */
	int egress;        /* nonzero: egress, else ingress */
	uint32_t handle;   /* 0: the kernel picks */
	uint32_t priority; /* 0: the kernel picks */
};
/* A direct-action sched_cls filter on the clsact qdisc, which is made
 * when missing (and left in place on detach: other filters may use it). */
EBPFDSL_API int ebpfdsl_attach_tc(int prog_fd, const char *ifname, const struct ebpfdsl_tc_opts *opts,
				  ebpfdsl_link **out, char *err, size_t errlen);

/* SO_ATTACH_BPF. The link does not keep the socket open; detach removes
 * the filter if the same socket is still at that fd. */
EBPFDSL_API int ebpfdsl_attach_socket(int prog_fd, int sock_fd, ebpfdsl_link **out, char *err, size_t errlen);

/* A cgroup v2 directory and an attach type (BPF_CGROUP_INET_INGRESS,
 * ...): a bpf link, or BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI where the
 * kernel has no cgroup links. */
EBPFDSL_API int ebpfdsl_attach_cgroup(int prog_fd, const char *cgroup_path, int attach_type, ebpfdsl_link **out,
				      char *err, size_t errlen);
/* sk_lookup or flow_dissector on a network namespace file
 * (/proc/self/ns/net, /run/netns/NAME; NULL for the caller's own). */
EBPFDSL_API int ebpfdsl_attach_netns(int prog_fd, const char *netns_path, int attach_type, ebpfdsl_link **out,
				     char *err, size_t errlen);

struct ebpfdsl_iter_opts {
	size_t sz;      /* sizeof(struct ebpfdsl_iter_opts) */
	int map_fd;     /* map element iterators; 0 when unused */
	uint32_t tid;   /* task iterators: one thread, or */
	uint32_t pid;   /* one process; 0 for all */
	int cgroup_fd;  /* cgroup iterators */
	uint32_t order; /* enum bpf_cgroup_iter_order */
};
/* A BPF_TRACE_ITER link for a program loaded with expected_attach_type
 * BPF_TRACE_ITER and the BTF id of bpf_iter_<target>. */
EBPFDSL_API int ebpfdsl_attach_iter(int prog_fd, const struct ebpfdsl_iter_opts *opts, ebpfdsl_link **out,
				    char *err, size_t errlen);
/* A new readable fd of the iterator's output (read until 0). */
EBPFDSL_API int ebpfdsl_link__iter_open(const ebpfdsl_link *link);

EBPFDSL_API int ebpfdsl_link__kind(const ebpfdsl_link *link);
/* What the link is attached to: "syscalls/sys_enter_openat", "lo ingress". */
EBPFDSL_API const char *ebpfdsl_link__target(const ebpfdsl_link *link);
/* The bpf link fd; -ENOTSUP for attachments that are not bpf links
 * (tc, netlink XDP, socket filters, ioctl perf events), -EBADF once
 * detached. */
EBPFDSL_API int ebpfdsl_link__fd(const ebpfdsl_link *link);
/* Number of kernel attachments behind the link (one per CPU for perf
 * events, one per function for kprobe fallbacks). */
EBPFDSL_API int ebpfdsl_link__count(const ebpfdsl_link *link);
/* Pins the bpf link at a bpffs path (mounting bpffs at /sys/fs/bpf when
 * the path is under it and nothing is mounted there). */
EBPFDSL_API int ebpfdsl_link__pin(ebpfdsl_link *link, const char *path);
/* Removes the pin this link made. */
EBPFDSL_API int ebpfdsl_link__unpin(ebpfdsl_link *link);
EBPFDSL_API const char *ebpfdsl_link__pin_path(const ebpfdsl_link *link);
/* Detaches now; idempotent. A pinned bpf link stays attached through
 * its pin until unpinned. */
EBPFDSL_API int ebpfdsl_link__detach(ebpfdsl_link *link);
EBPFDSL_API int ebpfdsl_link__detached(const ebpfdsl_link *link);
/* Detaches and frees; accepts NULL. */
EBPFDSL_API void ebpfdsl_link__free(ebpfdsl_link *link);
/* A pinned bpf link, as a link of kind EBPFDSL_LINK_PINNED. */
EBPFDSL_API int ebpfdsl_link_open_pinned(const char *path, ebpfdsl_link **out, char *err, size_t errlen);

/* What the kernel says about a bpf link (bpf_obj_get_info_by_fd). */
struct ebpfdsl_link_info {
	size_t sz;              /* sizeof(struct ebpfdsl_link_info) */
	uint32_t type;          /* enum bpf_link_type */
	uint32_t id, prog_id;
	uint32_t attach_type;   /* tracing, cgroup, netns */
	uint32_t target_obj_id, target_btf_id; /* tracing */
	uint64_t cgroup_id;     /* cgroup */
	uint32_t netns_ino;     /* netns */
	uint32_t ifindex;       /* xdp */
	uint32_t map_id;        /* map iterators */
	uint32_t perf_event_type; /* perf_event links (6.6+): enum bpf_perf_event_type */
	uint32_t offset;        /* kprobe/uprobe offset */
	uint64_t config;        /* perf event config */
	uint64_t cookie;
	char name[256];         /* raw tracepoint, iterator target, perf
	                         * tracepoint, kprobe function or uprobe file */
};
EBPFDSL_API const char *ebpfdsl_link_type_name(int type);
EBPFDSL_API int ebpfdsl_link__info(const ebpfdsl_link *link, struct ebpfdsl_link_info *info);

/* ELF symbols, for uprobes. `name` with a '/' is a path; "c" and "libc"
 * are the C library this process uses; "libfoo.so..." is searched as the
 * dynamic loader would (/etc/ld.so.cache's directories, the multiarch
 * and standard ones); another bare name along $PATH. 0 or -ENOENT. */
EBPFDSL_API int ebpfdsl_find_binary(const char *name, char *path, size_t len);
/* The file offset of a function symbol (.symtab, then .dynsym; versioned
 * names "f@@V" match "f"), through the PT_LOAD segment holding it, so
 * PIE, shared objects and fixed-address executables all work. */
EBPFDSL_API int ebpfdsl_elf_symbol_offset(const char *path, const char *symbol, uint64_t *offset, char *err,
					  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* EBPFDSL_H */
