/* SPDX-License-Identifier: MIT */
/* ebpfdsl: the one public C header. Assemble, disassemble and print eBPF
 * instructions, and load and run them through the kernel; usable without Lua. */
#ifndef EBPFDSL_H
#define EBPFDSL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
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
 *          sdiv/smod and addr_space_cast, src for calls and lddw pseudo
 *          forms, imm for atomics (load_acquire/store_release: 0x100/0x110)
 *   cpu    first -mcpu level that has it (1..4), as LLVM and the kernel
 *          name them
 * Encoder, decoder, validator, printer and the Lua mnemonic list are all
 * expansions of this table. ORDER ISA: keep rows with one opcode together.
 * ------------------------------------------------------------------------ */
/* A 64-bit row and its 32-bit twin: the same operation bits under the
 * kernel's class pair (BPF_ALU64/BPF_ALU, BPF_JMP/BPF_JMP32). Conditional
 * jumps on 32-bit operands came with cpu v3. */
#define EBPFDSL_ALU_PAIR_(X, id, name, op, shape, aux, cpu) \
	X(id, name, BPF_ALU64 | (op), shape, aux, cpu) \
	X(id##32, name "32", BPF_ALU | (op), shape, aux, cpu)
#define EBPFDSL_JMP_PAIR_(X, id, name, op, cpu) \
	X(id, name, BPF_JMP | (op), JCOND, 0, cpu) \
	X(id##32, name "32", BPF_JMP32 | (op), JCOND, 0, 3)

#define EBPFDSL_ISA(X) \
	EBPFDSL_ALU_PAIR_(X, ADD,  "add",  BPF_ADD,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, SUB,  "sub",  BPF_SUB,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, MUL,  "mul",  BPF_MUL,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, DIV,  "div",  BPF_DIV,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, SDIV, "sdiv", BPF_DIV,  ALU, 1, 4) \
	EBPFDSL_ALU_PAIR_(X, OR,   "or",   BPF_OR,   ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, AND,  "and",  BPF_AND,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, LSH,  "lsh",  BPF_LSH,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, RSH,  "rsh",  BPF_RSH,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, NEG,  "neg",  BPF_NEG,  NEG, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, MOD,  "mod",  BPF_MOD,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, SMOD, "smod", BPF_MOD,  ALU, 1, 4) \
	EBPFDSL_ALU_PAIR_(X, XOR,  "xor",  BPF_XOR,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, MOV,  "mov",  BPF_MOV,  ALU, 0, 1) \
	EBPFDSL_ALU_PAIR_(X, MOVSX, "movsx", BPF_MOV | BPF_X, MOVSX, 0, 4) \
	X(ADDR_SPACE_CAST, "addr_space_cast", 0xbf, ADDR_SPACE_CAST, 1, 1) \
	EBPFDSL_ALU_PAIR_(X, ARSH, "arsh", BPF_ARSH, ALU, 0, 1) \
	X(LE,       "le",       0xd4, END,   0, 1) \
	X(BE,       "be",       0xdc, END,   0, 1) \
	X(BSWAP,    "bswap",    0xd7, END,   0, 4) \
	X(JA,       "ja",       0x05, JA,    0, 1) \
	X(GOTOL,    "gotol",    0x06, GOTOL, 0, 4) \
	X(MAY_GOTO, "may_goto", 0xe5, MAY_GOTO, 0, 1) \
	EBPFDSL_JMP_PAIR_(X, JEQ,  "jeq",  BPF_JEQ,  1) \
	EBPFDSL_JMP_PAIR_(X, JGT,  "jgt",  BPF_JGT,  1) \
	EBPFDSL_JMP_PAIR_(X, JGE,  "jge",  BPF_JGE,  1) \
	EBPFDSL_JMP_PAIR_(X, JSET, "jset", BPF_JSET, 1) \
	EBPFDSL_JMP_PAIR_(X, JNE,  "jne",  BPF_JNE,  1) \
	EBPFDSL_JMP_PAIR_(X, JSGT, "jsgt", BPF_JSGT, 1) \
	EBPFDSL_JMP_PAIR_(X, JSGE, "jsge", BPF_JSGE, 1) \
	EBPFDSL_JMP_PAIR_(X, JLT,  "jlt",  BPF_JLT,  2) \
	EBPFDSL_JMP_PAIR_(X, JLE,  "jle",  BPF_JLE,  2) \
	EBPFDSL_JMP_PAIR_(X, JSLT, "jslt", BPF_JSLT, 2) \
	EBPFDSL_JMP_PAIR_(X, JSLE, "jsle", BPF_JSLE, 2) \
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
	X(LOAD_ACQUIRE,  "load_acquire",  0xc3, LOAD_ACQ,  0x100, 4) \
	X(STORE_RELEASE, "store_release", 0xc3, STORE_REL, 0x110, 4) \
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
	EBPFDSL_SHAPE_MAY_GOTO,   /* target or 16-bit off; never relaxed */
	EBPFDSL_SHAPE_ADDR_SPACE_CAST, /* dst, src, imm: src_as | dst_as << 16 */
	EBPFDSL_SHAPE_LOAD_ACQ,   /* size, dst, src, off: dst = *(src + off) */
	EBPFDSL_SHAPE_STORE_REL,  /* size, dst, off, src: *(dst + off) = src */
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
	uint16_t aux;
	uint8_t cpu;
};

EBPFDSL_API const struct ebpfdsl_isa_row *ebpfdsl_isa_row(int op);
/* Mnemonic by name, or -1. */
EBPFDSL_API int ebpfdsl_isa_lookup(const char *name);
/* The name of an enum ebpfdsl_shape ("alu", "ldx"), or NULL. */
EBPFDSL_API const char *ebpfdsl_shape_name(int shape);
/* The arguments of a shape's DSL word, one letter each ("dx": dst, then
 * src or imm), or NULL where the word is written out; *in_c (if not NULL)
 * says whether the word has a C constructor too. */
EBPFDSL_API const char *ebpfdsl_shape_words(int shape, int *in_c);
/* Register by name ("r0".."r10", "fp"), or -1. */
EBPFDSL_API int ebpfdsl_reg_parse(const char *name);
/* Size by name ("b", "h", "w", "dw"), or -1; and back. */
EBPFDSL_API int ebpfdsl_size_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_size_name(int size);
/* Slots the instruction takes in the program (2 for lddw and its kin). */
EBPFDSL_API int ebpfdsl_op_slots(const struct ebpfdsl_op *op);
/* The field a numeric jump distance lives in, EBPFDSL_HAS_OFF (jumps) or
 * EBPFDSL_HAS_IMM (local calls, ld_func); 0 for what goes nowhere and for
 * raw bytes. A label (target) stands in for it. */
EBPFDSL_API unsigned ebpfdsl_op_jump_field(const struct ebpfdsl_op *op);

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
/* "unknown helper 'x'; did you mean 'y', 'z'" for a name with no id,
 * written into buf (truncated to len); returns buf. */
EBPFDSL_API const char *ebpfdsl_helper_unknown(const char *name, char *buf, size_t len);
/* The same over any list of n names (NULLs skipped): up to `max` of them
 * nearest to `name`, nearest first; returns how many. */
EBPFDSL_API int ebpfdsl_suggest(const char *name, const char *const *names, size_t n, const char **out, int max);

/* Helpers newer than the header: ebpfdsl_helper_id, _name and _suggest
 * also search the running kernel's list (enum bpf_func_id in its BTF:
 * cgrp_storage_get is 210 on 6.2+ whatever the header says), which a
 * loader installs the first time a name or an id is missing from the
 * header's. The kernel layer's loader is ebpfdsl_helpers_load_kernel;
 * set_kernel installs a list directly (names[id], count ids; the caller
 * keeps it alive), or with names NULL forgets it (the loader is asked
 * again the next time). */
EBPFDSL_API void ebpfdsl_helpers_set_loader(int (*load)(void));
EBPFDSL_API void ebpfdsl_helpers_set_kernel(const char *const *names, int count);
/* Ids known to the header or the kernel (the largest + 1); asks the
 * kernel's list. */
EBPFDSL_API int ebpfdsl_helper_count_kernel(void);
/* Reads the running kernel's helper list from its BTF and installs it
 * (csrc/kernel/kfuncs.c; once per process): the number of ids, or -errno
 * (-ENOENT: the kernel's BTF has no enum bpf_func_id). */
EBPFDSL_API int ebpfdsl_helpers_load_kernel(void);

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
/* Resolves labels, relaxes long jumps and encodes. 0 or -1. A numeric
 * jump offset counts slots as emitted and keeps going to the instruction
 * that started there when relaxation moves it; one that lands inside an
 * instruction or outside the program, or a raw jump, is kept as given,
 * and refused when a relaxed jump lies between. */
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
/* What the printers put in that annotation: `label`, the name of the
 * label at the slot the op goes to (ebpfdsl_op_jump_target), when the
 * caller has one; else a helper call's name; else NULL. */
EBPFDSL_API const char *ebpfdsl_op_annotation(const struct ebpfdsl_op *op, const char *label);

/* ---- Listings (csrc/core/listing.c: pure) -------------------------------- */

/* A label: a name for a slot (the assembler's, ebpfdsl_asm__label_at). */
struct ebpfdsl_label {
	const char *name;
	size_t slot;
};

/* A program decoded once, with a label at every slot a jump, local call
 * or ld_func lands on: the caller's label for that slot (the first one
 * given for it wins), else "L<slot>", or "L<slot>_<k>" when one of the
 * caller's labels has that name; the caller's labels nothing lands on keep
 * their place too. Only a slot where an instruction starts, or cnt (the
 * end), carries a label: a jump into the second half of an lddw keeps its
 * numeric offset. insns and the labels' names must outlive the listing;
 * labels may be NULL. NULL with errno ENOMEM when memory runs out. */
typedef struct ebpfdsl_listing ebpfdsl_listing;

EBPFDSL_API ebpfdsl_listing *ebpfdsl_listing__new(const struct bpf_insn *insns, size_t cnt,
						  const struct ebpfdsl_label *labels, size_t nlabels);
EBPFDSL_API void ebpfdsl_listing__free(ebpfdsl_listing *l);
/* The i-th instruction, decoded as ebpfdsl_decode does, and the slot it
 * starts at; -ENOENT past the last one. */
EBPFDSL_API int ebpfdsl_listing__op(const ebpfdsl_listing *l, size_t i, const struct ebpfdsl_op **op,
				    size_t *slot);
/* The label at slot (0..cnt), or NULL (also for a slot out of range, so
 * that ebpfdsl_op_jump_target's result can be passed as it is). */
EBPFDSL_API const char *ebpfdsl_listing__label(const ebpfdsl_listing *l, int64_t slot);

struct ebpfdsl_listing_opts {
	size_t sz; /* sizeof(struct ebpfdsl_listing_opts) */
	int bytes; /* nonzero: each instruction's bytes in hex before its text */
};

/* The program as text, as dsl.dump gives it: "<label>:" on a line of its
 * own, then each instruction as "%5zu: " and ebpfdsl_op_print's text, with
 * ebpfdsl_op_annotation's " <label or helper>" after jumps and calls. opts
 * may be NULL. Returns the length snprintf would; out is always
 * terminated (out NULL with len 0: only the length). */
EBPFDSL_API int ebpfdsl_listing__text(const ebpfdsl_listing *l, const struct ebpfdsl_listing_opts *opts,
				      char *out, size_t len);
/* A listing's text in one call; -ENOMEM when memory runs out. */
EBPFDSL_API int ebpfdsl_dump(const struct bpf_insn *insns, size_t cnt, const struct ebpfdsl_label *labels,
			     size_t nlabels, const struct ebpfdsl_listing_opts *opts, char *out, size_t len);

/* ------------------------------------------------------------------------
 * The kernel: program types, loading and test runs (csrc/kernel).
 * Functions return a file descriptor or 0 on success, -errno on failure.
 * Options structs are read no further than their sz (0: no field set);
 * result structs (map and link info) are written no further than their
 * sz, which then says how much was written.
 * ------------------------------------------------------------------------ */

/* "socket_filter" <-> BPF_PROG_TYPE_SOCKET_FILTER, as libbpf names them. */
EBPFDSL_API int ebpfdsl_prog_type_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_prog_type_name(int type);

/* ---- Program types as programs name them: one row each ------------------
 * In the spirit of libbpf's SEC_DEF rows: every fact about a kind of
 * program is here once (csrc/kernel/prog_defs.c), and loading, attaching,
 * explaining and the Lua layer read it from there. A row's name is what
 * programs.load's type= takes: a program type ("xdp") or a shorthand for
 * a type with its attach type ("fentry" = tracing + trace_fentry). Types
 * and attach types are kept as names (libbpf's, or the running kernel's
 * for types newer than libbpf): ebpfdsl_prog_def__type and
 * ebpfdsl_prog_def__attach_type give their numbers. */
#define EBPFDSL_PROG_DEF_IMPLIED 0x01u    /* a shorthand: attach_type comes with the name; another is an error */
#define EBPFDSL_PROG_DEF_DEFAULT 0x02u    /* the kernel takes this type with attach_type only: the default */
#define EBPFDSL_PROG_DEF_NEEDS_ATTACH 0x04u /* the kernel refuses the type without an attach type: see choices */
#define EBPFDSL_PROG_DEF_TRAMPOLINE 0x08u /* runs through a BPF trampoline (refused where there are none) */
#define EBPFDSL_PROG_DEF_CTX_IN_ONLY 0x10u /* test runs take a context, the kernel refuses ctx_out */
#define EBPFDSL_PROG_DEF_MEMBER_INDEX 0x20u /* expected_attach_type is the index of the struct member it
					     * implements (struct_ops), set by attach_to: never a name */
#define EBPFDSL_PROG_DEF_CTX_WRITTEN 0x40u /* a test run writes the context back over ctx_in (syscall) */

struct ebpfdsl_prog_def {
	const char *name;          /* "fentry", "xdp": programs.load's type= and features' "prog:<name>" */
	const char *section;       /* libbpf's SEC() name for it ("fentry", "kprobe.multi", "cgroup/sock"),
	                            * NULL when libbpf has none */
	const char *prog_type;     /* the program type it loads as: "tracing" */
	const char *attach_type;   /* expected_attach_type at load (IMPLIED or DEFAULT), NULL for none */
	unsigned flags;            /* EBPFDSL_PROG_DEF_* */
	const char *choices;       /* NEEDS_ATTACH: the attach types to pick from, for messages */
	/* attach_to: what it names (for messages), and the BTF name it
	 * resolves to: target_prefix + attach_to, of BTF kind target_kind
	 * (libbpf's find_btf_by_prefix_kind); NULL target: loads take no
	 * attach_to; NULL target_prefix: resolved otherwise (struct_ops) */
	const char *target;
	const char *target_prefix;
	int target_kind;           /* BTF_KIND_FUNC, BTF_KIND_TYPEDEF */
	const char *attach_method; /* the Prog method that attaches it ("attach_xdp"), NULL for none */
	const char *attach_as;     /* the attach type that method uses when the caller names none, or NULL */
	const char *attach_hint;   /* what the caller may name instead, for messages, or NULL */
};

/* The rows in order (a type's shorthands follow it); NULL past the last. */
EBPFDSL_API const struct ebpfdsl_prog_def *ebpfdsl_prog_def_at(size_t i);
/* The row named `name`, or NULL. */
EBPFDSL_API const struct ebpfdsl_prog_def *ebpfdsl_prog_def_find(const char *name);
/* The row a program of (prog_type, attach_type) belongs to: the shorthand
 * whose pair it is, else the type's own row; NULL for a type with none.
 * attach_type -1: none. */
EBPFDSL_API const struct ebpfdsl_prog_def *ebpfdsl_prog_def_of(int prog_type, int attach_type);
/* The first row with a BTF target (target_prefix set) for attach_type. */
EBPFDSL_API const struct ebpfdsl_prog_def *ebpfdsl_prog_def_target(int attach_type);
/* The row whose target a load's attach_to names, for prog_type with
 * attach_type: the type's own row when MEMBER_INDEX, else the above. */
EBPFDSL_API const struct ebpfdsl_prog_def *ebpfdsl_prog_def_attach_to(int prog_type, int attach_type);
/* "trace_fentry, ..., lsm_cgroup": the attach types with a BTF target,
 * each once, into buf (truncated to len); the length it needs. */
EBPFDSL_API size_t ebpfdsl_prog_def_target_types(char *buf, size_t len);
/* The attach type a program of (prog_type, attach_type) attaches as
 * through `method` (attach_cgroup, attach_netns, attach_sockmap), given
 * the caller's name for it (a short one too, see
 * ebpfdsl_attach_type_parse_short) or NULL for its row's attach_as; or
 * -EINVAL with why in err (a misuse: the type cannot use the method, no
 * attach type, an unknown one, one for another type). */
EBPFDSL_API int ebpfdsl_prog_def_attach_type_for(int prog_type, int attach_type, const char *method,
						 const char *given, char *err, size_t len);
/* The row's program type as a number (enum bpf_prog_type), or -ENOENT
 * when neither libbpf nor the running kernel names it. */
EBPFDSL_API int ebpfdsl_prog_def__type(const struct ebpfdsl_prog_def *d);
/* The row's attach_type as a number: -1 when it has none, -ENOENT when
 * neither libbpf nor the running kernel names it. */
EBPFDSL_API int ebpfdsl_prog_def__attach_type(const struct ebpfdsl_prog_def *d);

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
	/* The program's own BTF (ebpfdsl_prog_btf gives all three): loaded
	 * into the kernel for the load and let go after it; when the kernel
	 * refuses it, its log is in log_buf and the load fails with its errno */
	const void *btf;
	size_t btf_size;
	const struct bpf_func_info *func_info;
	uint32_t func_info_cnt;
	const struct bpf_line_info *line_info;
	uint32_t line_info_cnt;
	int prog_btf_fd;          /* BTF already in the kernel, instead of btf */
	/* kfunc calls into a module's BTF: a call_kfunc's off indexes it (from
	 * 1), the module's BTF fd at that index */
	const int *fd_array;
	/* A log that grows to fit, instead of log_buf and log_size: when not
	 * NULL the load allocates the log itself, 64 KiB first and four times
	 * bigger after each ENOSPC up to 256 MiB (the retries asking for a
	 * level 1 log at once, which a refusal would ask for anyway), and
	 * leaves it in *log_alloc for the caller to free(): the whole log, or
	 * its first 256 MiB with -ENOSPC. -ENOMEM (*log_alloc NULL) when not
	 * even the first could be allocated. */
	char **log_alloc;
};

/* attach_to (as in the options above) resolved in b (NULL: the kernel's
 * BTF): a struct_ops program's "struct.member" sets *expected_attach_type
 * to the member's index and *attach_btf_id to the struct; other types
 * set *attach_btf_id to the target of *expected_attach_type. 0, -ENOENT
 * (no such target), -EINVAL (an attach type that takes none, or a
 * struct_ops path without '.'), or the errno of reading the kernel's BTF.
 * ebpfdsl_prog__load resolves attach_to through it. */
EBPFDSL_API int ebpfdsl_prog_resolve_attach(int type, const char *attach_to, const struct ebpfdsl_btf *b,
					    int *expected_attach_type, unsigned *attach_btf_id);
/* The same, saying what went wrong in err: the attach types that take an
 * attach_to (*expected_attach_type -1: none given) or the target looked
 * for ("no kernel function 'x' in vmlinux BTF"). */
EBPFDSL_API int ebpfdsl_prog_resolve_attach_err(int type, const char *attach_to, const struct ebpfdsl_btf *b,
						int *expected_attach_type, unsigned *attach_btf_id, char *err,
						size_t len);

/* What a refused load (err, either sign) of a program of type and
 * attach_type means, into why (len bytes): "refused: <what err means for
 * it: privileges, trampolines; else its text>: <the verifier's reason,
 * as ebpfdsl_vlog_explain tells it with the labels>" when there is a log,
 * else "failed: <what err means>". */
EBPFDSL_API void ebpfdsl_prog__load_failure(int err, int type, int attach_type, const char *log,
					    const struct bpf_insn *insns, size_t cnt, const struct ebpfdsl_label *labels,
					    size_t nlabels, char *why, size_t len);

/* Loads a program; returns its fd or -errno. When the load fails and a
 * log buffer was given, the verifier's log is in it (with log_level 0 the
 * refused program is verified again, for the log). -ENOSPC: the log did
 * not fit; retry with a larger buffer and log_level 1, which verifies
 * once, or let the load do that: opts->log_alloc. */
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
 * Struct layouts (csrc/core/layout*.c): the shape of an event, map key or
 * value, as C would lay it out, with queries, a C-struct printer, and
 * decode/encode between bytes and values. A layout is built field by
 * field; the first error is kept (ebpfdsl_layout__error), as the
 * assembler does, so building reads as a straight list checked once.
 * ------------------------------------------------------------------------ */

/* The target: BPF and every 64-bit kernel ebpfdsl supports (x86_64, arm64,
 * s390x, ppc64le, riscv64, mips64, loongarch64) have 8-byte pointers
 * aligned to 8, and align each integer type to its own size. The layouts
 * follow that ABI whatever the host is. */
#define EBPFDSL_LAYOUT_PTR_SIZE 8
#define EBPFDSL_LAYOUT_PTR_ALIGN 8
/* Nesting deeper than this is refused (it bounds the walkers' recursion). */
#define EBPFDSL_LAYOUT_MAX_DEPTH 32
/* The element index of a cursor that is not in an array. */
#define EBPFDSL_LAYOUT_NO_INDEX ((size_t)-1)

enum ebpfdsl_type {
	EBPFDSL_TYPE_U8,
	EBPFDSL_TYPE_U16,
	EBPFDSL_TYPE_U32,
	EBPFDSL_TYPE_U64,
	EBPFDSL_TYPE_I8,
	EBPFDSL_TYPE_I16,
	EBPFDSL_TYPE_I32,
	EBPFDSL_TYPE_I64,
	EBPFDSL_TYPE_CHAR,   /* text: arrays decode to strings cut at NUL */
	EBPFDSL_TYPE_BOOL,   /* _Bool, one byte */
	EBPFDSL_TYPE_PTR,    /* EBPFDSL_LAYOUT_PTR_SIZE bytes, an address */
	EBPFDSL_TYPE_PAD,    /* explicit padding bytes: zero, never decoded */
	EBPFDSL_TYPE_STRUCT, /* a nested layout */
	EBPFDSL_TYPE_COUNT_
};

/* "u8".."i64", "char", "bool", "ptr", "pad", "struct"; and back (s8..s64
 * are accepted for i8..i64, as the kernel's __s32 names them). -1 or NULL
 * when unknown. */
EBPFDSL_API const char *ebpfdsl_type_name(int type);
EBPFDSL_API int ebpfdsl_type_parse(const char *name);
/* Bytes of one scalar of the type (1 for pad, 0 for struct). */
EBPFDSL_API size_t ebpfdsl_type_size(int type);
EBPFDSL_API int ebpfdsl_type_is_signed(int type);

typedef struct ebpfdsl_layout ebpfdsl_layout;

struct ebpfdsl_layout_opts {
	size_t sz;  /* sizeof(struct ebpfdsl_layout_opts) */
	int packed; /* nonzero: __attribute__((packed)), every member at align 1 */
};

/* One field, as the queries report it. */
struct ebpfdsl_layout_field {
	const char *name;
	int type;         /* enum ebpfdsl_type; the element type of an array */
	size_t offset;    /* bytes from the start of the layout asked */
	size_t size;      /* the whole field (count * elem_size for arrays) */
	size_t count;     /* elements of an array; 0 when not an array */
	size_t elem_size; /* one element (the field itself when not an array) */
	size_t align;     /* the alignment it was placed at (1 when packed) */
	size_t index;     /* position among its layout's fields, from 0 */
	const ebpfdsl_layout *layout; /* for EBPFDSL_TYPE_STRUCT fields */
};

/* A new empty layout named `name` (a C identifier). NULL only when out of
 * memory (errno ENOMEM); a bad name is kept as the layout's error. */
EBPFDSL_API ebpfdsl_layout *ebpfdsl_layout__new(const char *name, const struct ebpfdsl_layout_opts *opts);
/* Drops one reference; layouts nested in others stay alive while nested. */
EBPFDSL_API void ebpfdsl_layout__free(ebpfdsl_layout *l);
/* Appends a field of a scalar type (u8..ptr); count 0 for a single value,
 * >= 1 for an array. 0, or -1 with the error kept. */
EBPFDSL_API int ebpfdsl_layout__add_field(ebpfdsl_layout *l, const char *name, int type, size_t count);
/* Appends a nested layout (count as above). The parent takes a reference,
 * and `sub` can no longer grow. */
EBPFDSL_API int ebpfdsl_layout__add_struct(ebpfdsl_layout *l, const char *name, ebpfdsl_layout *sub,
					   size_t count);
/* Appends `bytes` of explicit padding, aligned to 1. */
EBPFDSL_API int ebpfdsl_layout__add_pad(ebpfdsl_layout *l, const char *name, size_t bytes);
/* Appends a field by its type's name ("u32", "char", "pad": count bytes
 * of padding); an unknown name is kept as the error, the names listed. */
EBPFDSL_API int ebpfdsl_layout__add_typed(ebpfdsl_layout *l, const char *name, const char *type, size_t count);
/* The first error met while building, or NULL. */
EBPFDSL_API const char *ebpfdsl_layout__error(const ebpfdsl_layout *l);

EBPFDSL_API const char *ebpfdsl_layout__name(const ebpfdsl_layout *l);
EBPFDSL_API int ebpfdsl_layout__packed(const ebpfdsl_layout *l);
/* sizeof and _Alignof of the equal C struct, tail padding included. */
EBPFDSL_API size_t ebpfdsl_layout__size(const ebpfdsl_layout *l);
EBPFDSL_API size_t ebpfdsl_layout__align(const ebpfdsl_layout *l);
EBPFDSL_API size_t ebpfdsl_layout__field_count(const ebpfdsl_layout *l);
/* The i-th field (from 0, padding included); -ENOENT past the last. */
EBPFDSL_API int ebpfdsl_layout__field(const ebpfdsl_layout *l, size_t i, struct ebpfdsl_layout_field *f);
/* A field by path: "pid", "hdr.len", "args[2]", "hdrs[1].len"; offset is
 * from the start of `l`. -ENOENT (no such field), -ERANGE (index past the
 * end) or -EINVAL (bad path); `err`, when not NULL, says which. */
EBPFDSL_API int ebpfdsl_layout__lookup(const ebpfdsl_layout *l, const char *path, struct ebpfdsl_layout_field *f,
				       char *err, size_t errlen);
/* The equal C struct, nested definitions first, as text that gcc
 * compiles after #include <linux/types.h>. Returns the length snprintf
 * would. */
EBPFDSL_API int ebpfdsl_layout__print(const ebpfdsl_layout *l, char *buf, size_t len);

/* Where a walk over the values is: the field, the element index (or
 * EBPFDSL_LAYOUT_NO_INDEX), and the enclosing position. */
struct ebpfdsl_layout_cursor {
	const struct ebpfdsl_layout_field *field; /* offset relative to its own layout */
	size_t index;
	const struct ebpfdsl_layout_cursor *up;   /* NULL at the top level */
};

/* "hdrs[1].len" for a cursor; returns the length snprintf would. */
EBPFDSL_API int ebpfdsl_layout_cursor_path(const struct ebpfdsl_layout_cursor *c, char *buf, size_t len);

enum ebpfdsl_layout_nest {
	EBPFDSL_LAYOUT_NEST_STRUCT, /* a nested layout, or one element of an array of them */
	EBPFDSL_LAYOUT_NEST_ARRAY   /* an array decoded element by element */
};

/* What a decode reports, in field order (padding is skipped). Each
 * callback returns 0 to go on, anything else to stop the walk with it. */
struct ebpfdsl_layout_visitor {
	size_t sz; /* sizeof(struct ebpfdsl_layout_visitor) */
	/* integers (signed ones sign-extended; u64 and ptr as their bits),
	 * bool (0 or 1, any nonzero byte is 1) */
	int (*scalar)(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t value);
	/* char arrays up to the first NUL, a single char likewise (0 or 1
	 * bytes), u8 arrays whole */
	int (*bytes)(void *ctx, const struct ebpfdsl_layout_cursor *c, const char *p, size_t len);
	/* a nested struct (n: its fields, padding excluded) or an array
	 * (n: its elements) begins; `leave` ends it */
	int (*enter)(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest, size_t n);
	int (*leave)(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest);
};

/* How decode reports a field's value: each kind is one callback of the
 * visitor below, and the rows a binding pushes values by. */
enum ebpfdsl_layout_value {
	EBPFDSL_LAYOUT_VALUE_INT,    /* scalar: an integer */
	EBPFDSL_LAYOUT_VALUE_BOOL,   /* scalar: 0 or 1 */
	EBPFDSL_LAYOUT_VALUE_TEXT,   /* bytes: a char or char[n], cut at the first NUL */
	EBPFDSL_LAYOUT_VALUE_BYTES,  /* bytes: u8[n], whole */
	EBPFDSL_LAYOUT_VALUE_NESTED, /* enter, ..., leave: a struct, or an array of other types */
	EBPFDSL_LAYOUT_VALUE_NONE    /* padding: never reported */
};
EBPFDSL_API int ebpfdsl_layout_value_kind(const struct ebpfdsl_layout_field *f);
/* The length of a TEXT or BYTES value of field f whose bytes are at p. */
EBPFDSL_API size_t ebpfdsl_layout_value_len(const struct ebpfdsl_layout_field *f, const void *p);

/* A top-level value of a record, for a decoder's own loop over a layout
 * whose values do not nest (one row per value, pushed by its kind). */
struct ebpfdsl_layout_row {
	uint32_t off;   /* bytes from the start of the record */
	uint32_t len;   /* TEXT (1 for a char) and BYTES: the bytes it spans */
	uint32_t field; /* its field's index (padding counted) */
	uint8_t kind;   /* enum ebpfdsl_layout_value */
	uint8_t type;   /* EBPFDSL_TYPE_* */
};
/* Fills up to n rows with l's top-level values, padding skipped; returns
 * how many there are, and sets *nested when one of them is NESTED. */
EBPFDSL_API size_t ebpfdsl_layout__rows(const ebpfdsl_layout *l, struct ebpfdsl_layout_row *rows, size_t n,
					int *nested);

/* Walks the values of one record at buf (len bytes, at least the
 * layout's size, else -EMSGSIZE). Returns 0 or what a callback returned. */
EBPFDSL_API int ebpfdsl_layout__decode(const ebpfdsl_layout *l, const void *buf, size_t len,
				       const struct ebpfdsl_layout_visitor *v, void *ctx);

/* How many records of l the len bytes of a buffer hold from offset off,
 * stride bytes apart: *want, or when want is NULL as many as fit. -1 with
 * `err` saying why (a negative offset or count, a stride below 1, fewer
 * records than wanted). */
EBPFDSL_API int64_t ebpfdsl_layout__records(const ebpfdsl_layout *l, size_t len, int64_t off, int64_t stride,
					    const int64_t *want, char *err, size_t errlen);
/* Does `key` of a table given for l name one of its value fields? 0, or
 * -EINVAL (padding) or -ENOENT (no such field, the fields listed) with
 * `err` naming prefix..key. */
EBPFDSL_API int ebpfdsl_layout__check_key(const ebpfdsl_layout *l, const char *prefix, const char *key,
					  char *err, size_t errlen);

/* Where an encode takes its values. Each callback returns 1 with the
 * value, 0 when it is absent (its bytes stay zero), or a negative errno
 * to stop the encode. `bytes` may also return 2 for a u8 array given
 * element by element (enter/scalar/leave are then asked). */
struct ebpfdsl_layout_source {
	size_t sz; /* sizeof(struct ebpfdsl_layout_source) */
	int (*scalar)(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t *value);
	int (*bytes)(void *ctx, const struct ebpfdsl_layout_cursor *c, const char **p, size_t *len);
	int (*enter)(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest);
	int (*leave)(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest);
};

/* Zeroes the layout's size of buf (len bytes, at least that) and writes
 * the values the source gives. A value that does not fit its field is
 * -ERANGE, text longer than its array -E2BIG; `err` then names the path
 * and the value. Returns 0 or the negative errno. */
EBPFDSL_API int ebpfdsl_layout__encode(const ebpfdsl_layout *l, void *buf, size_t len,
				       const struct ebpfdsl_layout_source *s, void *ctx, char *err, size_t errlen);

/* One scalar: read at p (signed types sign-extended), or written with a
 * range check (-ERANGE when v does not fit; u64 and ptr take any bits,
 * bool 0 or 1, char -128..255). Host byte order, as the BPF target's. */
EBPFDSL_API int64_t ebpfdsl_scalar_get(int type, const void *p);
/* The same, inline for decoders' hot loops (the one place that knows
 * each type's load). memcpy keeps unaligned reads legal (packed layouts,
 * records at any offset); compilers turn it into one load. */
static inline int64_t ebpfdsl_scalar_load(int type, const void *p)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	switch (type) {
	case EBPFDSL_TYPE_U8:
	case EBPFDSL_TYPE_CHAR: memcpy(&u8, p, 1); return u8;
	case EBPFDSL_TYPE_BOOL: memcpy(&u8, p, 1); return u8 != 0;
	case EBPFDSL_TYPE_I8: memcpy(&u8, p, 1); return (int8_t)u8;
	case EBPFDSL_TYPE_U16: memcpy(&u16, p, 2); return u16;
	case EBPFDSL_TYPE_I16: memcpy(&u16, p, 2); return (int16_t)u16;
	case EBPFDSL_TYPE_U32: memcpy(&u32, p, 4); return u32;
	case EBPFDSL_TYPE_I32: memcpy(&u32, p, 4); return (int32_t)u32;
	case EBPFDSL_TYPE_U64:
	case EBPFDSL_TYPE_I64:
	case EBPFDSL_TYPE_PTR: memcpy(&u64, p, 8); return (int64_t)u64;
	default: return 0;
	}
}
EBPFDSL_API int ebpfdsl_scalar_put(int type, void *p, int64_t v);
/* Does v fit the type? The check ebpfdsl_scalar_put makes. */
EBPFDSL_API int ebpfdsl_scalar_fits(int type, int64_t v);
/* The values that check takes, as text for messages: "0..255", "0 or 1",
 * "any 64 bits" (u64, i64, ptr). */
EBPFDSL_API const char *ebpfdsl_scalar_range(int type);

/* Reads or writes the scalar (or array element) at path in one record:
 * 0 or -errno as ebpfdsl_layout__lookup, -EMSGSIZE for a short buffer,
 * -EINVAL for a path that is not a scalar, -ERANGE for a value that does
 * not fit. */
EBPFDSL_API int ebpfdsl_layout__get(const ebpfdsl_layout *l, const void *buf, size_t len, const char *path,
				    int64_t *value);
EBPFDSL_API int ebpfdsl_layout__set(const ebpfdsl_layout *l, void *buf, size_t len, const char *path,
				    int64_t value);

/* ------------------------------------------------------------------------
 * Architectures: where each architecture's struct pt_regs, the context of
 * kprobes, kretprobes, uprobes and uretprobes, keeps the registers a probe
 * reads (csrc/core/arch.c). Pure data: nothing here asks the kernel.
 * Arguments are numbered from 1, as PT_REGS_PARM1 is the first.
 * ------------------------------------------------------------------------ */

#define EBPFDSL_ARCH_MAX_ARGS 8

/* One register slot of struct pt_regs. */
struct ebpfdsl_arch_reg {
	const char *name; /* the field as C names it: "rdi", "regs[4]", "psw.addr";
	                   * NULL when the architecture has no such register */
	int offset;       /* byte offset from the start of struct pt_regs, or -1 */
	int kernel_only;  /* 1: a field of the kernel's own struct pt_regs that the
	                   * UAPI headers do not show (or show elsewhere) */
};

struct ebpfdsl_arch {
	const char *name;        /* "x86_64", "arm64", ... */
	const char *target;      /* what libbpf's -D__TARGET_ARCH_<target> names it */
	const char *uapi_struct; /* the UAPI struct that is a prefix of the kernel's
	                          * pt_regs: "struct pt_regs", "struct user_pt_regs" */
	int reg_size;            /* bytes per register slot and load: 8, or 4 */
	int nargs;               /* function arguments passed in registers */
	int nsyscall_args;       /* system call arguments passed in registers */
	int syscall_wrapper;     /* 1: the traced syscall function takes one
	                          * argument, a struct pt_regs * holding the user's
	                          * registers (ARCH_HAS_SYSCALL_WRAPPER) */
	const char *syscall_prefix; /* prefix of that function: "__x64_sys_" */
	struct ebpfdsl_arch_reg args[EBPFDSL_ARCH_MAX_ARGS];         /* PT_REGS_PARMn */
	struct ebpfdsl_arch_reg syscall_args[EBPFDSL_ARCH_MAX_ARGS]; /* PT_REGS_PARMn_SYSCALL, in the
	                                                             * pt_regs the arguments are in */
	struct ebpfdsl_arch_reg rc; /* PT_REGS_RC: the return value */
	struct ebpfdsl_arch_reg sp; /* PT_REGS_SP */
	struct ebpfdsl_arch_reg ip; /* PT_REGS_IP */
	struct ebpfdsl_arch_reg fp; /* PT_REGS_FP; name NULL where the ABI has none */
};

/* The i-th known architecture, from 0; NULL past the last. */
EBPFDSL_API const struct ebpfdsl_arch *ebpfdsl_arch_at(size_t i);
/* By name or a common alias ("amd64", "aarch64", "ppc64el", "x86"...), or NULL. */
EBPFDSL_API const struct ebpfdsl_arch *ebpfdsl_arch_find(const char *name);
/* The architecture this library was built for, or NULL if none above. */
EBPFDSL_API const struct ebpfdsl_arch *ebpfdsl_arch_current(void);
/* Offset of function argument n (from 1) in struct pt_regs; -ERANGE when n
 * is not passed in a register. */
EBPFDSL_API int ebpfdsl_arch_arg_offset(const struct ebpfdsl_arch *a, int n);
/* Offset of system call argument n (from 1) in the pt_regs holding the
 * syscall's registers (behind the wrapper's pointer where there is one);
 * -ERANGE beyond the registers. */
EBPFDSL_API int ebpfdsl_arch_syscall_arg_offset(const struct ebpfdsl_arch *a, int n);

/* Where tracefs is mounted ("/sys/kernel/tracing", or the older
 * "/sys/kernel/debug/tracing"), written to buf. When neither has events and
 * mount_if_absent is set, mounts tracefs at /sys/kernel/tracing (needs
 * CAP_SYS_ADMIN). 0 or -errno (-ENOENT: not mounted, and not asked to). */
EBPFDSL_API int ebpfdsl_tracefs_root(char *buf, size_t len, int mount_if_absent);

/* ------------------------------------------------------------------------
 * Maps (csrc/kernel/map*.c) and the BPF filesystem (csrc/kernel/bpffs.c).
 * Functions return 0 or a file descriptor on success, -errno on failure;
 * a missing key is -ENOENT. Element functions take the key and value
 * bytes the kernel sees: a per-CPU value is one 8-byte-aligned slot per
 * possible CPU (ebpfdsl_map_value_bytes gives the buffer size).
 * ------------------------------------------------------------------------ */

/* Map types newer than the Linux 6.1 UAPI headers, by the kernel's ids. */
#define EBPFDSL_MAP_TYPE_CGRP_STORAGE 32
#define EBPFDSL_MAP_TYPE_ARENA 33
#define EBPFDSL_MAP_TYPE_MAX_ 34 /* one past the last type this code names */
/* Map flags for arenas (BPF_F_MMAPABLE is older and in every header). */
#define EBPFDSL_F_MMAPABLE (1U << 10)
#define EBPFDSL_F_SEGV_ON_FAULT (1U << 17)
#define EBPFDSL_F_NO_USER_CONV (1U << 18)

/* "hash" <-> BPF_MAP_TYPE_HASH, as libbpf names them; types libbpf 1.1
 * cannot name ("arena") by the names newer libbpf gives them. */
EBPFDSL_API int ebpfdsl_map_type_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_map_type_name(int type);
/* Nonzero for types with one value per possible CPU. */
EBPFDSL_API int ebpfdsl_map_type_percpu(int type);
/* Nonzero for sk/inode/task/cgrp storage: keys are file descriptors. */
EBPFDSL_API int ebpfdsl_map_type_local_storage(int type);
/* Nonzero for types whose values are fds in (programs, maps, sockets,
 * perf events, cgroups) and ids out. */
EBPFDSL_API int ebpfdsl_map_type_fd_values(int type);
EBPFDSL_API int ebpfdsl_num_possible_cpus(void);
/* Bytes of one value as lookups read it: value_size, or for per-CPU types
 * value_size rounded up to 8, times the possible CPUs. */
EBPFDSL_API size_t ebpfdsl_map_value_bytes(int type, uint32_t value_size);

/* 0 if `size` is a valid ring buffer size (a power-of-two multiple of the
 * page size); otherwise -EINVAL and the nearest valid sizes below (0 when
 * there is none) and above. */
EBPFDSL_API int ebpfdsl_ringbuf_size_check(uint64_t size, uint64_t *below, uint64_t *above);

/* The kernel's value type of a struct_ops map ("tcp_congestion_ops"
 * -> bpf_struct_ops_tcp_congestion_ops in vmlinux BTF) and its size. */
EBPFDSL_API int ebpfdsl_struct_ops_type(const char *name, unsigned *type_id, unsigned *value_size);

struct ebpfdsl_map_create_opts {
	size_t sz;            /* sizeof(struct ebpfdsl_map_create_opts) */
	const char *name;     /* up to 15 characters kept by the kernel */
	unsigned flags;       /* BPF_F_* map flags */
	int inner_map_fd;     /* array_of_maps, hash_of_maps: a template; 0: none */
	int numa_node;        /* used with BPF_F_NUMA_NODE */
	uint64_t map_extra;   /* bloom_filter: hash count; arena: address */
	unsigned ifindex;     /* offloaded maps */
	int btf_fd;           /* 0: none; local storage maps then get a BTF
	                       * describing their key and value as bytes */
	unsigned btf_key_type_id;
	unsigned btf_value_type_id;
	unsigned btf_vmlinux_value_type_id; /* struct_ops */
};

/* Creates a map; returns its fd. Ring buffer sizes that are not a
 * power-of-two multiple of the page size are -EINVAL. */
EBPFDSL_API int ebpfdsl_map__create(int type, unsigned key_size, unsigned value_size, unsigned max_entries,
				    const struct ebpfdsl_map_create_opts *opts);
/* A new fd for the map with this id, or of the map pinned at `path`
 * (-EINVAL when the pin is not a map). */
EBPFDSL_API int ebpfdsl_map__open_id(uint32_t id);
EBPFDSL_API int ebpfdsl_map__open_pinned(const char *path);

/* What the kernel says about a map (bpf_obj_get_info_by_fd). */
struct ebpfdsl_map_info {
	size_t sz; /* sizeof(struct ebpfdsl_map_info) */
	int type;
	uint32_t id, key_size, value_size, max_entries, flags;
	char name[16];
	uint64_t map_extra;
	uint32_t ifindex, btf_id, btf_key_type_id, btf_value_type_id, btf_vmlinux_value_type_id;
	int frozen; /* in: nonzero to have it read (a read of /proc/self/fdinfo,
	             * the only place the kernel says); out: 1, 0, or -1 when
	             * not asked or the kernel does not say */
};
EBPFDSL_API int ebpfdsl_map__info(int fd, struct ebpfdsl_map_info *info);

/* Single elements. `flags`: BPF_ANY, BPF_NOEXIST, BPF_EXIST (update),
 * BPF_F_LOCK. Queues, stacks and bloom filters take a NULL key. */
EBPFDSL_API int ebpfdsl_map__lookup(int fd, const void *key, void *value, uint64_t flags);
EBPFDSL_API int ebpfdsl_map__update(int fd, const void *key, const void *value, uint64_t flags);
EBPFDSL_API int ebpfdsl_map__delete(int fd, const void *key);
EBPFDSL_API int ebpfdsl_map__lookup_and_delete(int fd, const void *key, void *value, uint64_t flags);
/* The key after `key` (NULL: the first); -ENOENT after the last. */
EBPFDSL_API int ebpfdsl_map__next_key(int fd, const void *key, void *next);
EBPFDSL_API int ebpfdsl_map__freeze(int fd);
/* The number of keys next_key walks (for arrays: max_entries). */
EBPFDSL_API int ebpfdsl_map__count(int fd, size_t *count);
/* Empties a map: deletes every key; arrays are set to zeros, queues and
 * stacks popped; -EOPNOTSUPP for types without keys (bloom filters). */
EBPFDSL_API int ebpfdsl_map__clear(int fd);

/* Batches: BPF_MAP_*_BATCH, or the same contract element by element
 * where the kernel refuses the batch for the map's type. */
struct ebpfdsl_map_batch {
	size_t sz;           /* sizeof(struct ebpfdsl_map_batch) */
	uint64_t elem_flags; /* update: BPF_ANY/NOEXIST/EXIST; BPF_F_LOCK */
	int no_fallback;     /* nonzero: report the kernel's refusal instead */
	int fallback;        /* out: 1 when the element-by-element path ran */
};
/* Bytes a batch cursor needs for a map with this key size. */
EBPFDSL_API size_t ebpfdsl_map_batch_cursor_size(uint32_t key_size);
/* Reads up to *count elements after cursor `in` (NULL: from the start)
 * into `keys` and `values`, writes the next cursor to `out` and the number
 * read to *count. Returns 0 when more may follow, -ENOENT when the map's
 * end was reached (*count still says how many were read), -ENOSPC when a
 * hash bucket holds more than *count elements. */
EBPFDSL_API int ebpfdsl_map__lookup_batch(int fd, const void *in, void *out, void *keys, void *values,
					  uint32_t *count, struct ebpfdsl_map_batch *opts);
EBPFDSL_API int ebpfdsl_map__lookup_and_delete_batch(int fd, const void *in, void *out, void *keys,
						     void *values, uint32_t *count,
						     struct ebpfdsl_map_batch *opts);
/* Writes or deletes *count elements; on failure *count says how many were
 * done before the one that failed. */
EBPFDSL_API int ebpfdsl_map__update_batch(int fd, const void *keys, const void *values, uint32_t *count,
					  struct ebpfdsl_map_batch *opts);
EBPFDSL_API int ebpfdsl_map__delete_batch(int fd, const void *keys, uint32_t *count,
					  struct ebpfdsl_map_batch *opts);

/* The BPF filesystem. bpffs_mount: `dir` (NULL: /sys/fs/bpf) holds a
 * bpffs afterwards, mounted now if it was not. bpffs_is: 1, 0 or -errno.
 * bpffs_prepare: mounts /sys/fs/bpf when `path` is under it and makes the
 * missing directories above `path` (only inside a bpffs). */
EBPFDSL_API int ebpfdsl_bpffs_mount(const char *dir);
EBPFDSL_API int ebpfdsl_bpffs_is(const char *dir);
EBPFDSL_API int ebpfdsl_bpffs_prepare(const char *path);

/* Pins any BPF object fd (map, program, link) at `path`, preparing the
 * bpffs first (a pin that fails removes the directories it made); opens
 * a pin; removes a pin, whatever it pins (refused outside a bpffs). */
EBPFDSL_API int ebpfdsl_obj__pin(int fd, const char *path);
EBPFDSL_API int ebpfdsl_obj__get(const char *path);
EBPFDSL_API int ebpfdsl_obj__unpin(const char *path);
/* Removes the pin at path only when it pins the object fd refers to (the
 * same kind and id); -EEXIST when another object is pinned there. */
EBPFDSL_API int ebpfdsl_obj__unpin_own(int fd, const char *path);
enum { EBPFDSL_OBJ_OTHER, EBPFDSL_OBJ_MAP, EBPFDSL_OBJ_PROG, EBPFDSL_OBJ_LINK };
/* Which kind of BPF object an fd refers to (EBPFDSL_OBJ_*), or -errno. */
EBPFDSL_API int ebpfdsl_obj__kind(int fd);
/* "map", "program", "link" (EBPFDSL_OBJ_OTHER: "not a BPF object"). */
EBPFDSL_API const char *ebpfdsl_obj_kind_name(int kind);
/* Opens a pin only if it holds an object of `kind` (EBPFDSL_OBJ_MAP,
 * _PROG, _LINK): the new fd, or -errno; -EINVAL for a relative path or
 * for a pin of another kind, which then goes to *found (when not NULL;
 * -1 when nothing was opened). Maps, programs and links open pins so. */
EBPFDSL_API int ebpfdsl_obj__open_kind(const char *path, int kind, int *found);

/* ========================================================================
 * BTF, programs (attach types, info, pinning, the verifier's log) and ELF
 * objects: csrc/kernel/btf*.c, prog*.c, object.c, csrc/core/vlog.c.
 * Pointer-returning constructors return NULL and set errno.
 * ======================================================================== */

/* ---- What an errno means ------------------------------------------------ */

/* The operation that failed, and what it was done to. */
struct ebpfdsl_explain {
	size_t sz;              /* sizeof(struct ebpfdsl_explain) */
	const char *op;         /* "create", "lookup", "update", "delete", "push",
	                         * "set_prog", "set_inner", "load", "attach", ... */
	int map_type;           /* enum bpf_map_type, or -1 */
	uint32_t max_entries, value_size;
	int64_t index;          /* the key of an index-keyed map (arrays), or -1 */
	int prog_type;          /* enum bpf_prog_type, or -1 */
	int attach_type;        /* the program's expected_attach_type, or -1 */
};
/* What errno err (either sign) means for that operation, from one table,
 * written to buf: "map is full (max_entries=1024)" for E2BIG on a hash's
 * update, "index 7 out of range (max_entries=4)" on an array's, "the
 * kernel refuses fentry here: BPF trampolines unavailable (EPERM)"; for
 * EPERM or EACCES in a process without CAP_BPF or CAP_SYS_ADMIN, that
 * this is the cause. NULL when the table has nothing better than
 * strerror's text. */
EBPFDSL_API const char *ebpfdsl_explain(int err, const struct ebpfdsl_explain *what, char *buf, size_t len);
/* 1 when this process has CAP_BPF or CAP_SYS_ADMIN (bpf(2) for all it
 * offers, given the kernel allows it), else 0. */
EBPFDSL_API int ebpfdsl_privileged(void);

/* ---- Diagnostics --------------------------------------------------------- */

/* strerror for the -errno values the library returns, of either sign:
 * also names the kernel's ENOTSUPP (524) and libbpf's own codes (4000..,
 * LIBBPF_ERRNO__*) that libc calls "Unknown error". Thread-safe. */
EBPFDSL_API const char *ebpfdsl_strerror(int err);
/* libbpf never prints to stderr through this library: its warnings are
 * routed into our messages. Calls that take a message buffer (objects,
 * attach) put them there; for the ones that return only an errno
 * (ebpfdsl_btf__load, ebpfdsl_btf__vmlinux, ebpfdsl_ringbuf__add,
 * ebpfdsl_perfbuf__new, map creation with BTF), this gives what libbpf said
 * during the most recent of them on this thread that failed, as one line
 * without libbpf's prefixes, and forgets it (as dlerror does); NULL when
 * it said nothing since the last read. libbpf's messages from the host's
 * own libbpf calls go where they went before this library was loaded. */
EBPFDSL_API const char *ebpfdsl_libbpf_said(void);
/* The reason in libbpf's messages as a message buffer caught them (their
 * last line, "libbpf: " dropped) into out (len bytes), else fallback;
 * returns out. */
EBPFDSL_API const char *ebpfdsl_libbpf_reason(const char *msg, const char *fallback, char *out, size_t len);

/* ---- BTF ---------------------------------------------------------------- */

typedef struct ebpfdsl_btf ebpfdsl_btf;

/* The running kernel's BTF (/sys/kernel/btf/vmlinux), opened on first use
 * and shared by every caller in the process: read in place (mapped, on
 * kernels since 6.16; else read once, about 6 MB), its types indexed as far
 * as lookups go. Unheld, it lives
 * as long as the process. A holder keeps it until its drop, and the last
 * drop frees it (the next call parses it again): each Lua state that
 * requires ebpfdsl holds it until lua_close, so a host that opens and
 * closes states gets the memory back with the last one. Use the pointer
 * only while holding, or while no holder can drop the last hold. */
EBPFDSL_API const ebpfdsl_btf *ebpfdsl_btf__vmlinux(void);
EBPFDSL_API void ebpfdsl_btf__vmlinux_hold(void);
EBPFDSL_API void ebpfdsl_btf__vmlinux_drop(void);
/* A raw BTF file or an ELF file with a .BTF section; `base`, when not NULL,
 * is the BTF a split file (a kernel module's) extends: the split BTF holds
 * a reference on it, so the base may be freed first. */
EBPFDSL_API ebpfdsl_btf *ebpfdsl_btf__load(const char *path, const ebpfdsl_btf *base);
/* BTF from its bytes (what ebpfdsl_btfw__bytes gives), parsed by libbpf;
 * `source` names it in messages ("bytes" when NULL). */
EBPFDSL_API ebpfdsl_btf *ebpfdsl_btf__new_raw(const void *data, size_t size, const char *source);
/* Loads the BTF into the kernel (once; later calls give the same fd),
 * for maps and programs to take as their btf_fd; the BTF owns the fd.
 * -errno on refusal, the kernel's reasons then in log (when given). */
EBPFDSL_API int ebpfdsl_btf__load_kernel(ebpfdsl_btf *b, char *log, size_t log_size);
/* Its fd once loaded, else -ENOENT. */
EBPFDSL_API int ebpfdsl_btf__fd(const ebpfdsl_btf *b);
/* A kernel module's BTF (/sys/kernel/btf/<module>, split on vmlinux) with
 * the fd of the kernel's own BTF object for it (ebpfdsl_btf__fd): what a
 * program calling the module's kfuncs puts in its fd_array. */
EBPFDSL_API ebpfdsl_btf *ebpfdsl_btf__kernel(const char *module);
/* Calls fn with the name of each module /sys/kernel/btf has BTF for, until
 * fn returns nonzero (then returned); else the number of modules, or
 * -errno when the directory cannot be read. */
EBPFDSL_API int ebpfdsl_btf_modules(int (*fn)(void *ctx, const char *module), void *ctx);
/* The kfuncs of a BTF (its FUNCs a "bpf_kfunc" decl tag names; a module's
 * own, not vmlinux's): writes up to max ids in order, returns how many
 * there are, or -errno. 0 also when the kernel was built without the
 * tags (pahole before 1.26). */
EBPFDSL_API int ebpfdsl_btf__kfuncs(const ebpfdsl_btf *b, uint32_t *ids, size_t max);
EBPFDSL_API int ebpfdsl_btf__is_kfunc(const ebpfdsl_btf *b, uint32_t id);
/* Calls fn with the name and id of each kfunc, in id order, until it
 * returns non-zero (which is returned); else how many, or -errno. */
EBPFDSL_API int ebpfdsl_btf__each_kfunc(const ebpfdsl_btf *b, int (*fn)(void *ctx, const char *name, uint32_t id),
					void *ctx);
/* Raw BTF bytes into the kernel: a new fd the caller closes, or -errno
 * with the kernel's reasons in log (when given). */
EBPFDSL_API int ebpfdsl_btf_load_raw(const void *data, size_t size, char *log, size_t log_size);
/* Frees what ebpfdsl_btf__load returned (a base still used by split BTF
 * is freed with the last of them); NULL and the shared vmlinux BTF are
 * ignored. */
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
 * print as "struct {...}". Returns the length snprintf would, or -errno
 * (-ELOOP for a chain past 64 declarators, -E2BIG for a spelling past
 * 8 KiB, which only crafted BTF has: the work is bounded either way). */
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
	size_t err_pos;         /* on an error: where in the path resolution
	                         * stopped */
};
/* 0, or -ENOENT (no such member), -ENOTDIR (not a struct or array there),
 * -ERANGE (index), -EINVAL (malformed path), -ELOOP (a type that contains
 * itself through anonymous members, or a modifier chain that never ends),
 * -E2BIG (anonymous members nested past what any compiler writes: the
 * search is bounded in total work, so crafted BTF cannot stall it). */
EBPFDSL_API int ebpfdsl_btf__offsetof(const ebpfdsl_btf *b, uint32_t type_id, const char *path,
				      struct ebpfdsl_btf_field *f);

/* The BTF id a tracing, LSM, or iterator program of `attach_type`
 * (enum bpf_attach_type) attaches to, found by name as libbpf does:
 * fentry/fexit/fmod_ret: the function; tp_btf: typedef "btf_trace_<name>";
 * lsm: function "bpf_lsm_<hook>"; iter: function "bpf_iter_<name>" (the
 * prefix and kind of the row ebpfdsl_prog_def_target gives).
 * Returns the id or -ENOENT; -EINVAL for an attach type that takes none. */
EBPFDSL_API int ebpfdsl_btf__attach_id(const ebpfdsl_btf *b, int attach_type, const char *name);

/* struct_ops programs implement one member of a kernel struct of function
 * pointers: "tcp_congestion_ops.ssthresh" gives the struct's id in
 * *struct_id (the program's attach_btf_id) and returns the member's index
 * (its expected_attach_type); -ENOENT, -EINVAL. */
EBPFDSL_API int ebpfdsl_btf__struct_ops_member(const ebpfdsl_btf *b, const char *path, uint32_t *struct_id);

/* Describing types (csrc/kernel/btf_describe.c, btf_lookup.c): what a
 * binding shows of a type, as a walk of keyed values a binding turns into
 * its own records (a Lua table). begin(key) opens a record under key
 * (key NULL: the next item of the list that is open); end closes it with
 * the same key. C spellings come as str("type", ...) beside num("type_id"). */
struct ebpfdsl_btf_emit {
	void (*num)(void *ctx, const char *key, int64_t v);
	void (*str)(void *ctx, const char *key, const char *s);
	void (*flag)(void *ctx, const char *key, int v);
	void (*begin)(void *ctx, const char *key);
	void (*end)(void *ctx, const char *key);
	void *ctx;
};
/* Type `id` into the open record: id, kind, name, size, decl, and per kind
 * bits/signed (int), members (struct, union), list and values (enum),
 * nelems (array), linkage, ret and params (func), vars (datasec)... */
EBPFDSL_API void ebpfdsl_btf__describe(const ebpfdsl_btf *b, uint32_t id, const struct ebpfdsl_btf_emit *e);
/* What ebpfdsl_btf__offsetof found, into the open record: offset,
 * bit_offset, bitfield_size, type, type_id, size. */
EBPFDSL_API void ebpfdsl_btf__describe_field(const ebpfdsl_btf *b, const struct ebpfdsl_btf_field *f,
					     const struct ebpfdsl_btf_emit *e);
/* The C spelling of ebpfdsl_btf__decl in a malloc'd string ("<type N>"
 * when it has none); NULL when out of memory. */
EBPFDSL_API char *ebpfdsl_btf__decl_dup(const ebpfdsl_btf *b, uint32_t id, const char *name);
/* "static", "global", "extern" ("?" past them): a func's or var's linkage
 * (csrc/core/btf_write_calls.c). */
EBPFDSL_API const char *ebpfdsl_btf_linkage_name(int linkage);

/* What a name is looked up as: one row per class, tried kind by kind. */
enum ebpfdsl_btf_lookup_class {
	EBPFDSL_BTF_LOOKUP_ANY,    /* any kind (ebpfdsl_btf__find's order) */
	EBPFDSL_BTF_LOOKUP_FUNC,   /* a function */
	EBPFDSL_BTF_LOOKUP_ENUM,   /* an enum, then an enum64 */
	EBPFDSL_BTF_LOOKUP_RECORD, /* a struct, then a union, then a typedef */
};
/* The id of type `name` of class `cls`, or with kind (BTF_KIND_*, not 0)
 * of that kind alone; else -ENOENT with "no <what> named 'x' in <source>
 * BTF" in err. */
EBPFDSL_API int ebpfdsl_btf__lookup(const ebpfdsl_btf *b, const char *name, int cls, int kind, char *err,
				    size_t len);
/* 0 when `id` is a type of b; else -ENOENT with "no BTF type with id N in
 * <source> (ids are 0..M)" in err. With `kind` (not 0), -EINVAL unless it
 * is of that kind or, for an enum, enum64 ("BTF type N is not an enum"). */
EBPFDSL_API int ebpfdsl_btf__check_id(const ebpfdsl_btf *b, int64_t id, int kind, char *err, size_t len);
/* A kind argument: NULL for any (0), else the kind; -EINVAL with
 * "unknown BTF kind 'x' (struct, union, ...)" in err. */
EBPFDSL_API int ebpfdsl_btf_kind_arg(const char *name, char *err, size_t len);
/* Why ebpfdsl_btf__offsetof(type_id, path) failed with `rc`, into err:
 * "offsetof(struct task_struct, se.x): no member 'x'". */
EBPFDSL_API void ebpfdsl_btf__offsetof_error(const ebpfdsl_btf *b, uint32_t type_id, const char *path,
					     const struct ebpfdsl_btf_field *f, int rc, char *err, size_t len);
/* The kernel's reason for refusing BTF: its log's last line, into err as
 * "the kernel refused BTF <source>: <strerror>: <line>" (the log loses
 * its trailing newlines). */
EBPFDSL_API void ebpfdsl_btf__refusal(const ebpfdsl_btf *b, int e, char *log, char *err, size_t len);

/* ---- Program types and attach types beyond libbpf's list ---------------- */

/* enum bpf_attach_type <-> "trace_fentry", named as libbpf names them and,
 * for types newer than this libbpf, as the running kernel's BTF does
 * (BPF_NETFILTER -> "netfilter"). The program type functions above use the
 * kernel's BTF the same way. */
EBPFDSL_API int ebpfdsl_attach_type_parse(const char *name);
EBPFDSL_API const char *ebpfdsl_attach_type_name(int type);
/* An attach type by its name or a short one: "ingress" (cgroup_inet_),
 * "connect4" (cgroup_inet4_connect), "sendmsg4" (cgroup_udp4_), "sysctl"
 * (cgroup_), "msg_verdict" (sk_), "verdict" (sk_skb_); -ENOENT. */
EBPFDSL_API int ebpfdsl_attach_type_parse_short(const char *name);

/* ---- Loaded programs: info, xlated code, pins ---------------------------- */

/* The kernel's description of a loaded program. `map_ids`, when not NULL,
 * receives up to *nr_map_ids ids and *nr_map_ids is set to the count. */
EBPFDSL_API int ebpfdsl_prog__info(int prog_fd, struct bpf_prog_info *info, uint32_t *map_ids,
				   uint32_t *nr_map_ids);
/* The instructions as the kernel keeps them (after its rewrites), copied
 * into insns, which has room for *cnt of them (insns NULL or *cnt 0: copy
 * none); *cnt becomes how many the kernel holds, so a caller asks once
 * for the count and again with room. -EPERM when the kernel hides them. */
EBPFDSL_API int ebpfdsl_prog__xlated(int prog_fd, struct bpf_insn *insns, size_t *cnt);
/* A new fd for the program pinned at path; -EINVAL if it is no program.
 * (Pinning: ebpfdsl_obj__pin.) */
EBPFDSL_API int ebpfdsl_prog__open_pinned(const char *path);

/* ---- The verifier's log -------------------------------------------------- */

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

/* ---- Writing BTF (csrc/core/btf_write.c, prog_btf.c: pure) ---------------- */

/* A BTF writer: types appended one by one (ids from 1, in order) and their
 * strings, then the bytes the kernel's BTF_LOAD takes (<linux/btf.h>'s
 * format). As the assembler, it keeps the first error: later calls do
 * nothing and return -1, so a list of calls is checked once at the end.
 * Names must be C identifiers (anonymous where C allows it). */
typedef struct ebpfdsl_btfw ebpfdsl_btfw;

EBPFDSL_API ebpfdsl_btfw *ebpfdsl_btfw__new(void);
EBPFDSL_API void ebpfdsl_btfw__free(ebpfdsl_btfw *w);
EBPFDSL_API const char *ebpfdsl_btfw__error(const ebpfdsl_btfw *w);
/* Types written so far (the last id). */
EBPFDSL_API int ebpfdsl_btfw__count(const ebpfdsl_btfw *w);
/* The offset of a string in the string section (each kept once; "" and
 * NULL are 0), or -1. */
EBPFDSL_API int64_t ebpfdsl_btfw__string(ebpfdsl_btfw *w, const char *s);
/* Each returns the new type's id, or -1. `encoding`: BTF_INT_SIGNED,
 * BTF_INT_CHAR or BTF_INT_BOOL (one at most). Arrays index with clang's
 * __ARRAY_SIZE_TYPE__. Type 0 is void. */
EBPFDSL_API int ebpfdsl_btfw__int(ebpfdsl_btfw *w, const char *name, uint32_t size, int encoding);
EBPFDSL_API int ebpfdsl_btfw__ptr(ebpfdsl_btfw *w, int type);
EBPFDSL_API int ebpfdsl_btfw__array(ebpfdsl_btfw *w, int elem, uint32_t nelems);
EBPFDSL_API int ebpfdsl_btfw__typedef(ebpfdsl_btfw *w, const char *name, int type);
/* A type tag ("kptr", "kptr_untrusted", "percpu_kptr") on `type`. */
EBPFDSL_API int ebpfdsl_btfw__type_tag(ebpfdsl_btfw *w, const char *value, int type);
/* A struct or union (name NULL or "" for an anonymous one) and then its
 * members, each right after it or after the member before: 0 or -1. */
EBPFDSL_API int ebpfdsl_btfw__struct(ebpfdsl_btfw *w, const char *name, uint32_t size);
EBPFDSL_API int ebpfdsl_btfw__union(ebpfdsl_btfw *w, const char *name, uint32_t size);
EBPFDSL_API int ebpfdsl_btfw__member(ebpfdsl_btfw *w, const char *name, int type, uint32_t bit_offset);
/* A function prototype returning `ret`, then its parameters likewise;
 * a function (linkage 0 static, 1 global, 2 extern) of a prototype. */
EBPFDSL_API int ebpfdsl_btfw__func_proto(ebpfdsl_btfw *w, int ret);
EBPFDSL_API int ebpfdsl_btfw__param(ebpfdsl_btfw *w, const char *name, int type);
EBPFDSL_API int ebpfdsl_btfw__func(ebpfdsl_btfw *w, const char *name, int proto, int linkage);
/* The C type of a layout scalar (enum ebpfdsl_type: u32 is the typedef
 * __u32 of unsigned int, char is char, ptr is void *, as clang writes
 * them), written once and then reused. */
EBPFDSL_API int ebpfdsl_btfw__scalar(ebpfdsl_btfw *w, int type);

struct ebpfdsl_btfw_layout_opts {
	size_t sz; /* sizeof(struct ebpfdsl_btfw_layout_opts) */
	/* The type of pointer field `field` (an index of ebpfdsl_layout__field)
	 * of layout l, or 0 for void *: a kptr's "pointer to type tag to
	 * struct". May be NULL. */
	int (*ptr_type)(void *ctx, ebpfdsl_btfw *w, const ebpfdsl_layout *l, size_t field);
	void *ctx;
};
/* A layout as the struct clang writes for its C text (ebpfdsl_layout__print),
 * nested layouts first, each layout once per writer: the struct's id. */
EBPFDSL_API int ebpfdsl_btfw__layout(ebpfdsl_btfw *w, const ebpfdsl_layout *l,
				     const struct ebpfdsl_btfw_layout_opts *opts);
/* kptr fields (csrc/kernel/btf_kptr.c): pointer field `field` of layout l
 * written as a pointer to type tag `tag` ("kptr", "kptr_untrusted",
 * "percpu_kptr") on kernel struct `target`, which the kernel finds in its
 * own BTF by name (sized from it, for bpftool's printing). */
struct ebpfdsl_kptr {
	const ebpfdsl_layout *l;
	size_t field;
	const char *tag, *target; /* kept alive by the caller */
	int id;                   /* 0 until written */
};
/* The field `path` ("task", "inner.task") of l into k->l and k->field: 0,
 * or -ENOENT (no such field), -EINVAL (no ptr there, or an array of them),
 * with "kptr '<path>': ..." in err. */
EBPFDSL_API int ebpfdsl_kptr_field(const ebpfdsl_layout *l, const char *path, struct ebpfdsl_kptr *k, char *err,
				   size_t len);
struct ebpfdsl_kptrs {
	struct ebpfdsl_kptr *k;
	size_t n;
};
/* An ebpfdsl_btfw_layout_opts.ptr_type for ctx a struct ebpfdsl_kptrs:
 * each kptr's types written once, at first use. */
EBPFDSL_API int ebpfdsl_kptr_type(void *ctx, ebpfdsl_btfw *w, const ebpfdsl_layout *l, size_t field);
/* The writer's calls as a table (csrc/core/btf_write_calls.c), for a
 * binding to offer each as a method without a wrapper per kind. A call's
 * arguments, in order, are letters of `args`: 's' a string ('S' one that
 * may be absent: NULL), 'i' a type id, 'u' a u32, 'o' the index of one of
 * `options` (NULL-ended; the first is the default), 'l' a list of parts;
 * strings go to s[], numbers to n[], in turn (two of each at most). */
struct ebpfdsl_btfw_args {
	const char *s[2];
	int64_t n[2];
	int opt;
};
/* The parts a list holds (a struct's members, a prototype's parameters),
 * each added after the call made its type: its fields are letters as
 * above; `what` and `shape` name it ("member", "{name, type id, ...}"). */
struct ebpfdsl_btfw_part {
	const char *args, *what, *shape;
	int (*add)(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a);
};
struct ebpfdsl_btfw_call {
	const char *name;
	const char *args;
	const char *const *options;
	const struct ebpfdsl_btfw_part *part; /* for an 'l' argument */
	/* the new type's id ("string": the string's offset), or -1 */
	int64_t (*call)(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a);
};
/* The rows, *n of them. */
EBPFDSL_API const struct ebpfdsl_btfw_call *ebpfdsl_btfw_calls(size_t *n);

/* The BTF: header, types, strings. Valid until the next call or free;
 * NULL after an error. */
EBPFDSL_API const void *ebpfdsl_btfw__bytes(ebpfdsl_btfw *w, size_t *size);

/* The slots where the program's functions start: 0, then every distinct
 * target of a bpf-to-bpf call (call_local) or function address (ld_func)
 * that is an instruction of the program, in order. Writes up to max of
 * them and returns how many there are, or -ENOMEM. */
EBPFDSL_API int ebpfdsl_prog_func_starts(const struct bpf_insn *insns, size_t cnt, uint32_t *out, size_t max);

/* Source of one instruction and the ones after it, up to the next line. */
struct ebpfdsl_line {
	size_t slot;
	const char *file; /* NULL: opts.file */
	uint32_t line, col;
	const char *text; /* the source line */
};

struct ebpfdsl_prog_btf_opts {
	size_t sz;          /* sizeof(struct ebpfdsl_prog_btf_opts) */
	const char *name;   /* the program's function name; NULL or "": "main" */
	/* subprograms are named after the label at their start (made a C
	 * identifier), else sub_<slot> */
	const struct ebpfdsl_label *labels;
	size_t nlabels;
	/* in slot order; instructions before the first have a line of their
	 * own: their text as ebpfdsl_op_print gives it, line = slot */
	const struct ebpfdsl_line *lines;
	size_t nlines;
	const char *file;   /* the file of lines that name none: default "ebpfdsl" */
};

/* A program's BTF, func_info (one static FUNC per function, long f(void
 * *ctx) for the program, long f(void) for the others) and line_info, as
 * BPF_PROG_LOAD takes them. NULL only when out of memory; other errors
 * are kept (ebpfdsl_prog_btf__error), and the accessors then give none. */
typedef struct ebpfdsl_prog_btf ebpfdsl_prog_btf;
EBPFDSL_API ebpfdsl_prog_btf *ebpfdsl_prog_btf__new(const struct bpf_insn *insns, size_t cnt,
						    const struct ebpfdsl_prog_btf_opts *opts);
EBPFDSL_API void ebpfdsl_prog_btf__free(ebpfdsl_prog_btf *p);
EBPFDSL_API const char *ebpfdsl_prog_btf__error(const ebpfdsl_prog_btf *p);
EBPFDSL_API const void *ebpfdsl_prog_btf__btf(const ebpfdsl_prog_btf *p, size_t *size);
EBPFDSL_API const struct bpf_func_info *ebpfdsl_prog_btf__func_info(const ebpfdsl_prog_btf *p, uint32_t *cnt);
EBPFDSL_API const char *ebpfdsl_prog_btf__func_name(const ebpfdsl_prog_btf *p, uint32_t i);
EBPFDSL_API const struct bpf_line_info *ebpfdsl_prog_btf__line_info(const ebpfdsl_prog_btf *p, uint32_t *cnt);

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
/* What a failed load (err, with libbpf's messages in log) means, into why:
 * for a program the kernel refused, "program 'x' refused: <errno's text>:
 * <the verifier's reason, as ebpfdsl_vlog_explain tells it>", its
 * verifier log at log + *off (*len bytes), and its index returned (-1 if
 * unknown); else the cause (privileges, or libbpf's last words), *off 0
 * and -1. */
EBPFDSL_API int ebpfdsl_object__load_failure(const ebpfdsl_object *o, int err, const char *log, char *why,
					     size_t why_len, size_t *off, size_t *len);
EBPFDSL_API int ebpfdsl_object__loaded(const ebpfdsl_object *o);
EBPFDSL_API size_t ebpfdsl_object__prog_count(const ebpfdsl_object *o);
EBPFDSL_API size_t ebpfdsl_object__map_count(const ebpfdsl_object *o);

struct ebpfdsl_object_prog {
	const char *name;
	const char *section;
	int type;                 /* enum bpf_prog_type */
	int expected_attach_type; /* enum bpf_attach_type, -1 for none (libbpf's 0
				   * is cgroup_inet_ingress only for cgroup_skb) */
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
	uint32_t id;              /* the kernel's id once it has an fd, else 0 */
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

/* The object's BTF, as clang wrote it and libbpf fixed it up at open;
 * owned by the object (never free it). NULL with errno ENOENT for an
 * object built without -g. */
EBPFDSL_API const ebpfdsl_btf *ebpfdsl_object__btf(const ebpfdsl_object *o);

/* Global variables of .rodata, .data, .bss and .data.NAME, as libbpf's
 * skeletons give them (static ones left out; externs of .kconfig and
 * .ksyms too). Before load they are the image the maps are created
 * from: set a `const volatile` filter there. */
struct ebpfdsl_object_var {
	const char *name;
	const char *section;    /* ".rodata", ".bss", ".data.NAME" */
	uint32_t offset, size;  /* in the section's map value */
	uint32_t type;          /* in ebpfdsl_object__btf: the declared type */
	size_t map;             /* index of the section's map */
	int readonly;           /* .rodata: the kernel freezes it at load */
	int text;               /* a string sets it by name (enums) or as characters
				 * (arrays of 1-byte ints), not as its raw bytes */
};
EBPFDSL_API size_t ebpfdsl_object__var_count(const ebpfdsl_object *o);
/* The i-th variable (in section order); -ENOENT past the end. */
EBPFDSL_API int ebpfdsl_object__var(const ebpfdsl_object *o, size_t i, struct ebpfdsl_object_var *v);
EBPFDSL_API int ebpfdsl_object__find_var(const ebpfdsl_object *o, const char *name);
/* Why name is no variable of o, into err: "has no variable 'x'; did you
 * mean 'y'", "... (it has a, b)", "... (it has no global variables)". */
EBPFDSL_API void ebpfdsl_object__var_missing(const ebpfdsl_object *o, const char *name, char *err, size_t len);
/* Its size bytes: before load from the initial image; after load from
 * the kernel's map (a lookup of element 0). */
EBPFDSL_API int ebpfdsl_object__read_var(ebpfdsl_object *o, size_t i, void *buf);
/* Before load into the initial image. After load into the kernel's map:
 * through a shared mapping of it (only these bytes change) when it is
 * mmapable, else a lookup and update of the whole value; -EROFS for a
 * read-only section, which the kernel froze at load. */
EBPFDSL_API int ebpfdsl_object__write_var(ebpfdsl_object *o, size_t i, const void *buf);

/* Attaching program i as its section name says: ebpfdsl_object__attach,
 * with the links below. */

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
	EBPFDSL_LINK_OBJECT,       /* made by libbpf for an ebpfdsl_object */
	EBPFDSL_LINK_SOCKMAP,      /* sk_msg, sk_skb on a sockmap or sockhash */
	EBPFDSL_LINK_STRUCT_OPS,   /* a struct_ops map registered with the kernel */
	EBPFDSL_LINK_KIND_COUNT_
};

/* "kprobe", "tracepoint", ...; NULL for an unknown kind. */
EBPFDSL_API const char *ebpfdsl_link_kind_name(int kind);
/* Attach types by name: ebpfdsl_attach_type_parse/_name above. */

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
	uint64_t offset;    /* file offset, added to the symbol's when both;
	                     * without a symbol the probe's offset, 0 too */
	int pid;            /* 0: every process; else only this one */
	int retprobe;       /* nonzero: uretprobe */
	uint64_t cookie;
	/* file offset of a USDT semaphore (a 2-byte counter in the file's
	 * data) the kernel increments while the probe is attached; 0: none */
	uint64_t ref_ctr_offset;
};
/* `path` is a file, or a name looked up as ebpfdsl_find_binary does. */
EBPFDSL_API int ebpfdsl_attach_uprobe(int prog_fd, const char *path, const struct ebpfdsl_uprobe_opts *opts,
				      ebpfdsl_link **out, char *err, size_t errlen);
/* Registering a uprobe makes the kernel wait for an RCU grace period
 * (7-35 ms here) unless another uprobe was registered moments before.
 * Its perf event needs no program, so ebpfdsl_uprobe_prefetch resolves
 * path and opts as the attach does and opens the event in a thread
 * while the caller builds and loads its program; an
 * ebpfdsl_attach_uprobe of the same file, offset, kind, pid and
 * ref_ctr_offset takes that event (the cookie is the attach's; a pid of
 * 0 or below is every process for both). 0, or -errno with err (file or
 * symbol not found, no uprobe PMU); an open that fails is reported by
 * the attach, which opens again. The list of prefetched events is the
 * process's: any attach may take one, any drop closes them all. Events
 * no attach took stay registered until ebpfdsl_uprobe_prefetch_drop,
 * which closes them and returns how many it closed; until then the
 * kernel refuses another uprobe at the same place with a different
 * ref_ctr_offset. */
EBPFDSL_API int ebpfdsl_uprobe_prefetch(const char *path, const struct ebpfdsl_uprobe_opts *opts, char *err,
					size_t errlen);
EBPFDSL_API int ebpfdsl_uprobe_prefetch_drop(void);

/* Tracepoint through a perf event of the tracefs id, then a
 * BPF_PERF_EVENT link (or PERF_EVENT_IOC_SET_BPF on older kernels). */
EBPFDSL_API int ebpfdsl_attach_tracepoint(int prog_fd, const char *category, const char *name, uint64_t cookie,
					  ebpfdsl_link **out, char *err, size_t errlen);
EBPFDSL_API int ebpfdsl_attach_raw_tracepoint(int prog_fd, const char *name, ebpfdsl_link **out, char *err,
					      size_t errlen);
/* fentry, fexit, fmod_ret, lsm: a program of type tracing or lsm loaded
 * with attach_btf_id; the target is the one named at load. */
EBPFDSL_API int ebpfdsl_attach_tracing(int prog_fd, ebpfdsl_link **out, char *err, size_t errlen);

/* The fields of struct ebpfdsl_perf_event_opts after sz, in ABI order (a
 * new one goes at the end): X(how, kind, field).
 * how: ATTR, the perf_event_attr field of that name, copied into it as it
 *      is, and the attach_perf_event option of that name: adding one is
 *      adding its row, nothing else; HAND, each layer reads it its own way.
 * kind: the C type, EBPFDSL_CTYPE_<kind> (BOOL: one of perf_event_attr's
 *      bits, nonzero sets it). */
#define EBPFDSL_PERF_EVENT_OPTS(X) \
	X(HAND, U32, type)          /* PERF_TYPE_SOFTWARE, PERF_TYPE_HARDWARE, ... */ \
	X(ATTR, U64, config)        /* PERF_COUNT_SW_CPU_CLOCK, ... */ \
	X(HAND, U64, sample_period) /* one of these two; default freq 99 Hz */ \
	X(HAND, U64, sample_freq) \
	X(HAND, INT, cpu)           /* -1: one event on every online CPU */ \
	X(HAND, INT, pid)           /* 0: any process (system wide) */ \
	X(HAND, U64, cookie) \
	X(ATTR, BOOL, exclude_user) /* samples in user space left out */ \
	/* a new row goes above this line: the one edit that adds an option */
#define EBPFDSL_CTYPE_BOOL int
#define EBPFDSL_CTYPE_INT int
#define EBPFDSL_CTYPE_U32 uint32_t
#define EBPFDSL_CTYPE_U64 uint64_t
#define EBPFDSL_OPTS_FIELD_(how, kind, field) EBPFDSL_CTYPE_##kind field;
struct ebpfdsl_perf_event_opts {
	size_t sz; /* sizeof(struct ebpfdsl_perf_event_opts) */
	EBPFDSL_PERF_EVENT_OPTS(EBPFDSL_OPTS_FIELD_)
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

/* An sk_msg or sk_skb program on a sockmap or sockhash, for the sockets
 * in it: attach_type BPF_SK_MSG_VERDICT, BPF_SK_SKB_VERDICT,
 * BPF_SK_SKB_STREAM_VERDICT or BPF_SK_SKB_STREAM_PARSER. A bpf link where
 * the kernel has sockmap links (6.10), else BPF_PROG_ATTACH; detach takes
 * the program off the map (sockets already in it keep running it until
 * they leave the map, as the kernel does). */
EBPFDSL_API int ebpfdsl_attach_sockmap(int prog_fd, int map_fd, int attach_type, ebpfdsl_link **out, char *err,
				       size_t errlen);

/* Registers a struct_ops map (a tcp_congestion_ops, say): writes element
 * 0, `value` being the kernel's struct bpf_struct_ops_<name> (value_size
 * bytes) with the fds of struct_ops programs in its function pointer
 * members; then, for a map created with BPF_F_LINK, makes a struct_ops
 * link. Detach closes the link, or deletes the element (which
 * unregisters) for a map without BPF_F_LINK. */
EBPFDSL_API int ebpfdsl_attach_struct_ops(int map_fd, const void *value, ebpfdsl_link **out, char *err,
					  size_t errlen);
/* The object's struct_ops map i (a SEC(".struct_ops") variable), after
 * load, registered as libbpf's bpf_map__attach_struct_ops does it: a link
 * of kind EBPFDSL_LINK_STRUCT_OPS aimed at the map's name that keeps the
 * object alive. -EMEDIUMTYPE for another kind of map; what libbpf said
 * goes to msg. */
EBPFDSL_API int ebpfdsl_object__register(ebpfdsl_object *o, size_t i, ebpfdsl_link **out, char *msg,
					 size_t msg_size);

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
/* Pins the bpf link at a bpffs path (through ebpfdsl_obj__pin, which
 * mounts bpffs at /sys/fs/bpf when needed). */
EBPFDSL_API int ebpfdsl_link__pin(ebpfdsl_link *link, const char *path);
/* Removes the pin this link made. */
EBPFDSL_API int ebpfdsl_link__unpin(ebpfdsl_link *link);
EBPFDSL_API const char *ebpfdsl_link__pin_path(const ebpfdsl_link *link);
/* "kind target (prog 'name', fd=5, pinned at /sys/fs/bpf/x)" into buf:
 * the link for messages and printing, prog_name the program it runs (NULL:
 * none known; a struct_ops link runs a map's programs). Returns buf. */
EBPFDSL_API const char *ebpfdsl_link__describe(const ebpfdsl_link *link, const char *prog_name, char *buf,
					       size_t len);
/* Detaches now; idempotent. A pinned bpf link stays attached through
 * its pin until unpinned. */
EBPFDSL_API int ebpfdsl_link__detach(ebpfdsl_link *link);
EBPFDSL_API int ebpfdsl_link__detached(const ebpfdsl_link *link);
/* Detaches and frees; accepts NULL. */
EBPFDSL_API void ebpfdsl_link__free(ebpfdsl_link *link);
/* A pinned bpf link, as a link of kind EBPFDSL_LINK_PINNED. */
EBPFDSL_API int ebpfdsl_link_open_pinned(const char *path, ebpfdsl_link **out, char *err, size_t errlen);
/* Attaches program i of a loaded object as its section name says
 * (libbpf's bpf_program__attach: "tp/syscalls/sys_enter_getppid",
 * "fentry/...", "raw_tp/...") as a link of kind EBPFDSL_LINK_OBJECT
 * aimed at the section name. 0 or -errno; what libbpf said on the way
 * goes to msg (when given): the reason for a failure. */
EBPFDSL_API int ebpfdsl_object__attach(ebpfdsl_object *o, size_t i, ebpfdsl_link **out, char *msg, size_t msg_size);

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

/* ------------------------------------------------------------------------
 * Symbols (csrc/core/symtab.c: the table; csrc/kernel/ksyms.c, elf_sym.c:
 * where it is filled from) and syscall names (csrc/core/syscalls.c).
 * A symbol table is sorted by address once filled; it answers which
 * symbol holds an address, and where a name is. Pointer-returning
 * functions return NULL and set errno.
 * ------------------------------------------------------------------------ */

typedef struct ebpfdsl_symtab ebpfdsl_symtab;

struct ebpfdsl_sym {
	uint64_t addr;
	uint64_t size;      /* 0: unknown (kallsyms, some assembly) */
	uint64_t end;       /* addr + size. For kallsyms, which gives no
	                     * sizes, the next symbol's address (UINT64_MAX for
	                     * the last); in an ELF file (a table with segments)
	                     * a symbol of size 0 ends where it starts: it holds
	                     * no address, as bcc (and bpftrace) take it */
	const char *name;   /* valid as long as the table */
	const char *module; /* a kernel module ("ext4", "bpf"); NULL for
	                     * vmlinux and for ELF files */
	char type;          /* kallsyms' letter; ELF: T global, t local,
	                     * W weak, i IFUNC, as nm prints them */
};

/* Where a file's bytes are loaded (an ELF PT_LOAD program header). */
struct ebpfdsl_symtab_segment {
	uint64_t vaddr, offset, filesz, memsz;
	uint32_t flags; /* PF_X, PF_W, PF_R */
};

/* Building a table: new, add symbols (and segments), then finish, which
 * sorts and indexes it; after that it is read-only. Strings are copied. */
EBPFDSL_API ebpfdsl_symtab *ebpfdsl_symtab__new(void);
EBPFDSL_API void ebpfdsl_symtab__free(ebpfdsl_symtab *t);
EBPFDSL_API int ebpfdsl_symtab__add(ebpfdsl_symtab *t, uint64_t addr, uint64_t size, const char *name,
				    const char *module, char type);
EBPFDSL_API int ebpfdsl_symtab__add_segment(ebpfdsl_symtab *t, const struct ebpfdsl_symtab_segment *s);
EBPFDSL_API int ebpfdsl_symtab__finish(ebpfdsl_symtab *t);
/* Symbols by address order, from 0; -ENOENT past the end. */
EBPFDSL_API size_t ebpfdsl_symtab__count(const ebpfdsl_symtab *t);
EBPFDSL_API int ebpfdsl_symtab__at(const ebpfdsl_symtab *t, size_t i, struct ebpfdsl_sym *out);
/* The symbol holding addr (addr < end; for symbols nested in others, the
 * innermost), and the offset of addr in it; -ENOENT when none does. At
 * one address a global symbol names it before a weak or a local one. */
EBPFDSL_API int ebpfdsl_symtab__resolve(const ebpfdsl_symtab *t, uint64_t addr, struct ebpfdsl_sym *out,
					uint64_t *offset);
/* A symbol by name (a global one before others of that name); -ENOENT. */
EBPFDSL_API int ebpfdsl_symtab__find(const ebpfdsl_symtab *t, const char *name, struct ebpfdsl_sym *out);
EBPFDSL_API size_t ebpfdsl_symtab__segments(const ebpfdsl_symtab *t, const struct ebpfdsl_symtab_segment **segs);
/* The address a file offset is loaded at, through the segment holding
 * it: a mapping's start - its offset + this gives a process's addresses
 * their symbols, PIE or not. -ENOENT when no segment holds the offset. */
EBPFDSL_API int ebpfdsl_symtab__file_addr(const ebpfdsl_symtab *t, uint64_t file_offset, uint64_t *addr);

/* The kernel's code symbols from /proc/kallsyms (data symbols, b B d D r
 * R, left out; modules named). -EPERM when every address reads as 0
 * (kernel.kptr_restrict, or no CAP_SYSLOG), with a message saying so. */
EBPFDSL_API int ebpfdsl_symtab_kallsyms(ebpfdsl_symtab **out, char *err, size_t errlen);
/* The function symbols (FUNC and IFUNC) of an ELF file's .symtab and
 * .dynsym, with its PT_LOAD segments. */
EBPFDSL_API int ebpfdsl_symtab_elf(const char *path, ebpfdsl_symtab **out, char *err, size_t errlen);

/* Syscalls of the architecture this was built for, from the build host's
 * <asm/unistd.h>: the name without "sys_" ("getppid") or NULL; the number
 * for a name (with or without "sys_") or -ENOENT. */
EBPFDSL_API const char *ebpfdsl_syscall_name(long nr);
EBPFDSL_API long ebpfdsl_syscall_nr(const char *name);
/* All of them, by index from 0 (in name order): the name, and *nr. */
EBPFDSL_API int ebpfdsl_syscall_count(void);
EBPFDSL_API const char *ebpfdsl_syscall_at(int i, long *nr);

/* ------------------------------------------------------------------------
 * Readers: ring buffers and perf buffers (csrc/kernel/ringbuf.c, our own
 * consumer of the mmap'd ring; perfbuf.c, on libbpf's perf_buffer__*).
 *
 * A reader hands each record to a callback. The callback returns 0 to go
 * on, or anything else to stop the poll after this record: the record
 * stays consumed, the next poll starts at the record after it, and the
 * value is kept for __stopped(). So a caller that stops on an error
 * loses nothing and sees nothing twice. Polls first take what is already
 * there and only then wait, so records left behind by a stop are read
 * at once, whatever the epoll fd said.
 * ------------------------------------------------------------------------ */

typedef struct ebpfdsl_ringbuf ebpfdsl_ringbuf;

/* One record of the ring at index `ring` (as __add returned it). */
typedef int (*ebpfdsl_ringbuf_fn)(void *ctx, int ring, const void *data, size_t size);

struct ebpfdsl_ringbuf_add_opts {
	size_t sz;   /* sizeof(struct ebpfdsl_ringbuf_add_opts) */
	int lost_fd; /* 0 for none, or a loss map: an array or percpu_array
	              * with 4-byte keys and 8-byte values whose entry 0 the
	              * BPF side bumps when bpf_ringbuf_reserve fails. The
	              * reader keeps its own duplicate of the fd. */
};

/* A reader over no ring yet; NULL with errno set on failure. */
EBPFDSL_API ebpfdsl_ringbuf *ebpfdsl_ringbuf__new(ebpfdsl_ringbuf_fn fn, void *ctx);
EBPFDSL_API void ebpfdsl_ringbuf__free(ebpfdsl_ringbuf *rb);
/* Adds a BPF_MAP_TYPE_RINGBUF map; returns its ring index (0, 1, ...),
 * -EINVAL when map_fd is not a ring buffer map, -EMEDIUMTYPE when
 * lost_fd is not a loss map, or another -errno. */
EBPFDSL_API int ebpfdsl_ringbuf__add(ebpfdsl_ringbuf *rb, int map_fd, const struct ebpfdsl_ringbuf_add_opts *opts);
EBPFDSL_API int ebpfdsl_ringbuf__ring_count(const ebpfdsl_ringbuf *rb);
/* Handles what the rings hold, taking turns between rings; when they
 * hold nothing, waits up to timeout_ms (-1: no limit) for records.
 * Returns the number of records handed to the callback (the stopping one
 * included), or -errno (-EINTR when a signal came). */
EBPFDSL_API int ebpfdsl_ringbuf__poll(ebpfdsl_ringbuf *rb, int timeout_ms);
/* The same without waiting. */
EBPFDSL_API int ebpfdsl_ringbuf__consume(ebpfdsl_ringbuf *rb);
/* For producers that submit with BPF_RB_NO_WAKEUP, which never wake a
 * waiting __poll: while __poll waits, it also looks at the rings every
 * interval_ms (0, the default: only when the kernel wakes it). 0, or
 * -EINVAL for a negative interval. */
EBPFDSL_API int ebpfdsl_ringbuf__set_poll_interval(ebpfdsl_ringbuf *rb, int interval_ms);
/* What the callback stopped the last poll or consume with, or 0. */
EBPFDSL_API int ebpfdsl_ringbuf__stopped(const ebpfdsl_ringbuf *rb);
/* An epoll fd that is readable when a ring holds records, for a host
 * event loop to wait on before calling __poll(rb, 0). */
EBPFDSL_API int ebpfdsl_ringbuf__epoll_fd(const ebpfdsl_ringbuf *rb);
/* The sum of the loss maps given to __add (each map counted once, over
 * all CPUs): failed reservations, since a ring buffer keeps no count of
 * its own. -ENOENT when no ring has a loss map. */
EBPFDSL_API int ebpfdsl_ringbuf__lost(const ebpfdsl_ringbuf *rb, uint64_t *lost);
/* Entry 0 of one loss map, summed over CPUs for a percpu_array;
 * -EMEDIUMTYPE when the map has another type or shape. */
EBPFDSL_API int ebpfdsl_loss_map__read(int map_fd, uint64_t *sum);

/* The other direction: a BPF_MAP_TYPE_USER_RINGBUF map that user space
 * writes records into and a BPF program drains (bpf_user_ringbuf_drain,
 * whose callback gets each record as a dynptr). One writer at a time. */
typedef struct ebpfdsl_user_ringbuf ebpfdsl_user_ringbuf;
/* NULL with errno set (EINVAL: not a user_ringbuf map). */
EBPFDSL_API ebpfdsl_user_ringbuf *ebpfdsl_user_ringbuf__new(int map_fd);
EBPFDSL_API void ebpfdsl_user_ringbuf__free(ebpfdsl_user_ringbuf *u);
/* The ring's size in bytes (the map's max_entries); each record takes
 * its size rounded up to 8, plus an 8-byte header. */
EBPFDSL_API uint32_t ebpfdsl_user_ringbuf__size(const ebpfdsl_user_ringbuf *u);
/* Copies one record of `size` bytes in and submits it. With timeout_ms 0
 * it does not wait: -ENOSPC when the ring has no room now; otherwise it
 * waits up to timeout_ms (-1: no limit) for a drain to make room. -E2BIG
 * for a record bigger than the whole ring. */
EBPFDSL_API int ebpfdsl_user_ringbuf__write(ebpfdsl_user_ringbuf *u, const void *data, size_t size, int timeout_ms);
/* What a failed write of `size` bytes that returned err means, written
 * into buf (len bytes) and returned: "write of N bytes: the ring is full
 * (...)", the ring's limit for -E2BIG, else "write of N bytes". */
EBPFDSL_API const char *ebpfdsl_user_ringbuf__write_error(const ebpfdsl_user_ringbuf *u, int err, size_t size,
							   char *buf, size_t len);

typedef struct ebpfdsl_perfbuf ebpfdsl_perfbuf;

/* One sample written on `cpu` by bpf_perf_event_output. The kernel pads
 * raw samples so that size + 4 is a multiple of 8: `size` counts that
 * padding. */
typedef int (*ebpfdsl_perfbuf_fn)(void *ctx, int cpu, const void *data, size_t size);
/* The kernel dropped `lost` samples on `cpu` for want of room; reported
 * in order with the samples, when room came back. */
typedef int (*ebpfdsl_perfbuf_lost_fn)(void *ctx, int cpu, uint64_t lost);

struct ebpfdsl_perfbuf_opts {
	size_t sz;                    /* sizeof(struct ebpfdsl_perfbuf_opts) */
	size_t pages;                 /* data pages per CPU, a power of 2; 0: 8 */
	ebpfdsl_perfbuf_lost_fn lost; /* may be NULL: losses are then skipped */
};

/* One buffer per online CPU on a BPF_MAP_TYPE_PERF_EVENT_ARRAY map (up
 * to its max_entries), whose slots it fills; it keeps its own duplicate
 * of map_fd. NULL with errno set (EINVAL: not such a map, or pages not a
 * power of 2). */
EBPFDSL_API ebpfdsl_perfbuf *ebpfdsl_perfbuf__new(int map_fd, ebpfdsl_perfbuf_fn fn, void *ctx,
						  const struct ebpfdsl_perfbuf_opts *opts);
EBPFDSL_API void ebpfdsl_perfbuf__free(ebpfdsl_perfbuf *pb);
EBPFDSL_API int ebpfdsl_perfbuf__buffer_count(const ebpfdsl_perfbuf *pb);
/* As for ring buffers; lost reports count as records handled. */
EBPFDSL_API int ebpfdsl_perfbuf__poll(ebpfdsl_perfbuf *pb, int timeout_ms);
EBPFDSL_API int ebpfdsl_perfbuf__consume(ebpfdsl_perfbuf *pb);
EBPFDSL_API int ebpfdsl_perfbuf__stopped(const ebpfdsl_perfbuf *pb);
EBPFDSL_API int ebpfdsl_perfbuf__epoll_fd(const ebpfdsl_perfbuf *pb);

/* ------------------------------------------------------------------------
 * Feature probes (csrc/kernel/features.c): what the running kernel allows,
 * asked with libbpf's probes (libbpf_probe_bpf_map_type, _prog_type) or
 * the smallest create, load or attach that shows it, closed at once. Each
 * returns 1 when the kernel has the feature, else -errno, and fills `why`
 * (may be NULL) with "<meaning> (<ERRNAME>)[: what was tried]", e.g.
 * "not permitted here (EPERM)". Nothing is cached: each call asks again.
 * ------------------------------------------------------------------------ */
EBPFDSL_API int ebpfdsl_probe_map_type(int type, char *why, size_t len);
EBPFDSL_API int ebpfdsl_probe_prog_type(int type, char *why, size_t len);
/* May programs of the type call the helper (an id of enum bpf_func_id)? */
EBPFDSL_API int ebpfdsl_probe_helper(int prog_type, int helper, char *why, size_t len);
/* BPF_PROG_TEST_RUN of a socket filter; the kernel's BTF (vmlinux). */
EBPFDSL_API int ebpfdsl_probe_test_run(char *why, size_t len);
EBPFDSL_API int ebpfdsl_probe_btf(char *why, size_t len);
/* Does the kernel say what a perf-event link probes (event type, name,
 * offset, cookie: ebpfdsl_link__info's perf_event_type and name)? 6.6+. */
EBPFDSL_API int ebpfdsl_probe_perf_link_info(char *why, size_t len);
/* Does the verifier know an instruction family (ebpfdsl_probe_insn_name(i)
 * lists them: "v4" (6.6), "may_goto" and "addr_space_cast" (6.9),
 * "load_acquire" (6.15))? A socket filter using it is loaded, or, for
 * addr_space_cast, refused for want of an arena by name. */
EBPFDSL_API int ebpfdsl_probe_insn(const char *name, char *why, size_t len);
EBPFDSL_API const char *ebpfdsl_probe_insn_name(size_t i);
/* A kind of attachment (ebpfdsl_probe_kind_name(i) lists them: "socket",
 * "tracepoint", "raw_tracepoint", "tp_btf", "perf_event", "uprobe",
 * "uretprobe", "uprobe_multi", "kprobe", "kretprobe", "kprobe_events", "kprobe_multi",
 * "fentry", "fexit", "fmod_ret", "lsm", "iter"): with attach 0, whether a
 * program for it loads; otherwise whether it loads and attaches (to this
 * process where the kind allows it, else to vfs_read). */
EBPFDSL_API int ebpfdsl_probe_kind(const char *kind, int attach, char *why, size_t len);
EBPFDSL_API const char *ebpfdsl_probe_kind_name(size_t i);

/* --- handles (issue 10) --- */
/* "name (loaded, 2 programs, 3 maps)" into buf: the object for messages
 * and printing, as ebpfdsl_link__describe is a link's. Returns buf. */
EBPFDSL_API const char *ebpfdsl_object__describe(const ebpfdsl_object *o, char *buf, size_t len);
/* --- end of handles --- */

#ifdef __cplusplus
}
#endif

#endif /* EBPFDSL_H */
