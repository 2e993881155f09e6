/* SPDX-License-Identifier: MIT */
/* The instruction table as data: rows by mnemonic, name lookup, register
 * and size names, and the shorthand constructors of the C API. */
#include <stdint.h>
#include <string.h>
#include "core.h"

const struct ebpfdsl_isa_row ebpfdsl__isa_rows[] = {
#define ROW_(id, name, code, shape, aux, cpu) { name, code, EBPFDSL_SHAPE_##shape, aux, cpu },
	EBPFDSL_ISA(ROW_)
#undef ROW_
};

/* The shapes, beside the rows. Per shape: the fields it takes (required,
 * optional, pairs of which exactly one), its slots, where a numeric jump
 * distance lives and how the assembler grows it, the widths and sizes it
 * allows and the ranges of its operands, where each field of the encoded
 * instruction comes from (the decoder reads the same columns backwards),
 * and the printer's template. Encoder, decoder, validator, printer,
 * assembler and core.isa() read it; no shape is named in their code. */
#define F_(field) EBPFDSL_HAS_##field
#define J_(where) EBPFDSL__JUMP_##where
#define G_(how) EBPFDSL__GROW_##how
#define E_(src, off, imm, imm2) { EBPFDSL__FROM_##src, EBPFDSL__FROM_##off, EBPFDSL__FROM_##imm, EBPFDSL__FROM_##imm2 }
#define R_(range) EBPFDSL__R_##range
#define REGS_(how) EBPFDSL__REGS_##how
#define SIZES_ 0xf /* b, h, w, dw */
#define NO_DW_ 0x7 /* b, h, w */
#define W_DW_ 0x9  /* w, dw */
#define JUMP_ .slots = 1, .followed = 1
const struct ebpfdsl__shape ebpfdsl__shapes[] = {
	[EBPFDSL_SHAPE_ALU] = { "alu", .words = "dx", .c_word = 1,
		.slots = 1, .req = F_(DST), .one1 = F_(SRC) | F_(IMM),
		.enc = E_(SRC, ROW, IMM, ZERO), .r_imm = R_(ALU), .regs = REGS_(CLASS), .print = "%d %O %v" },
	[EBPFDSL_SHAPE_NEG] = { "neg", .words = "d",
		.slots = 1, .req = F_(DST), .enc = E_(ZERO, ZERO, ZERO, ZERO),
		.regs = REGS_(CLASS), .print = "%d = -%d" },
	/* (s32) only to 64 bits */
	[EBPFDSL_SHAPE_MOVSX] = { "movsx", .words = "dsb",
		.slots = 1, .req = F_(DST) | F_(SRC) | F_(BITS), .bits = 0x7, .bits32 = 0x3,
		.enc = E_(SRC, BITS, ZERO, ZERO), .regs = REGS_(CLASS), .print = "%d = (s%b)%s" },
	[EBPFDSL_SHAPE_END] = { "end", .words = "db",
		.slots = 1, .req = F_(DST) | F_(BITS), .bits = 0xe, .bits32 = 0xe,
		.enc = E_(ZERO, ZERO, BITS, ZERO), .regs = REGS_(R), .print = "%d = %N%b %d" },
	[EBPFDSL_SHAPE_JA] = { "ja", .words = "g", .c_word = 1,
		JUMP_, .jump = J_(OFF), .grow = G_(GOTOL), .one1 = F_(TARGET) | F_(OFF),
		.enc = E_(ZERO, OFF, ZERO, ZERO), .r_off = R_(JUMP16), .print = "goto %o%@" },
	/* the 32-bit distance goes in imm */
	[EBPFDSL_SHAPE_GOTOL] = { "gotol", .words = "g", .c_word = 1,
		JUMP_, .jump = J_(OFF), .one1 = F_(TARGET) | F_(OFF),
		.enc = E_(ZERO, ZERO, OFF, ZERO), .r_off = R_(JUMP32), .print = "gotol %o%@" },
	[EBPFDSL_SHAPE_JCOND] = { "jcond", .words = "dxg", .c_word = 1,
		JUMP_, .jump = J_(OFF), .grow = G_(INVERT), .req = F_(DST),
		.one1 = F_(SRC) | F_(IMM), .one2 = F_(TARGET) | F_(OFF), .enc = E_(SRC, OFF, IMM, ZERO),
		.r_imm = R_(IMM), .r_off = R_(JUMP16), .regs = REGS_(CLASS), .print = "if %d %J %V goto %o%@" },
	[EBPFDSL_SHAPE_CALL] = { "call", .words = "h", .c_word = 1,
		.slots = 1, .req = F_(IMM), .enc = E_(ROW, OFF, IMM, ZERO),
		.r_imm = R_(HELPER), .print = "call %i%@" },
	[EBPFDSL_SHAPE_CALL_LOCAL] = { "call_local", .words = "G",
		JUMP_, .jump = J_(IMM), .one1 = F_(TARGET) | F_(IMM),
		.enc = E_(ROW, OFF, IMM, ZERO), .r_imm = R_(CALL), .print = "call %i%@" },
	/* off: an index into the fd_array of the load, 0 for vmlinux */
	[EBPFDSL_SHAPE_CALL_KFUNC] = { "call_kfunc", .slots = 1, .req = F_(IMM), .opt = F_(OFF), .unset0 = F_(OFF),
		.enc = E_(ROW, OFF, IMM, ZERO), .r_imm = R_(BTF), .r_off = R_(FD_IDX), .print = "call %i%@" },
	[EBPFDSL_SHAPE_EXIT] = { "exit", .words = "", .c_word = 1,
		.slots = 1, .enc = E_(ZERO, ZERO, ZERO, ZERO), .print = "exit" },
	[EBPFDSL_SHAPE_LDDW] = { "lddw", .words = "di", .c_word = 1,
		.slots = 2, .req = F_(DST) | F_(IMM), .enc = E_(ROW, ZERO, IMM, HIGH),
		.regs = REGS_(R), .print = "%d = %i ll" },
	/* the pseudo forms print as bpftool does: LLVM has no syntax for them */
	[EBPFDSL_SHAPE_LD_IMM] = { "ld_imm", .words = "dm",
		.slots = 2, .req = F_(DST) | F_(IMM), .enc = E_(ROW, ZERO, IMM, AUX),
		.r_imm = R_(IMM_ANY), .regs = REGS_(R), .print = "%d = %N[%e]" },
	[EBPFDSL_SHAPE_LD_MAPV] = { "ld_map_value", .words = "dmV",
		.slots = 2, .req = F_(DST) | F_(IMM), .opt = F_(AUX),
		.enc = E_(ROW, ZERO, IMM, AUX), .r_imm = R_(IMM_ANY), .r_aux = R_(VALUE_OFF), .regs = REGS_(R),
		.print = "%d = %N[%e] + %a" },
	[EBPFDSL_SHAPE_LD_FUNC] = { "ld_func", .words = "dG",
		.slots = 2, .followed = 1, .jump = J_(IMM), .req = F_(DST),
		.one1 = F_(TARGET) | F_(IMM), .enc = E_(ROW, ZERO, IMM, AUX), .r_imm = R_(CALL), .regs = REGS_(R),
		.print = "%d = func %j%@" },
	[EBPFDSL_SHAPE_LD_ABS] = { "ld_abs", .words = "zi",
		.slots = 1, .req = F_(SIZE) | F_(IMM), .sizes = NO_DW_, .size_where = "here",
		.enc = E_(SRC, ZERO, IMM, ZERO), .r_imm = R_(PKT_OFF), .print = "r0 = *(u%z *)skb[%i]" },
	[EBPFDSL_SHAPE_LD_IND] = { "ld_ind", .words = "zsI",
		.slots = 1, .req = F_(SIZE) | F_(SRC), .opt = F_(IMM), .sizes = NO_DW_,
		.size_where = "here", .enc = E_(SRC, ZERO, IMM, ZERO), .r_imm = R_(PKT_OFF),
		.print = "r0 = *(u%z *)skb[%k]" },
	[EBPFDSL_SHAPE_LDX] = { "ldx", .words = "zdsO", .c_word = 1,
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(SRC), .opt = F_(OFF), .sizes = SIZES_,
		.enc = E_(SRC, OFF, ZERO, ZERO), .r_off = R_(MEM_OFF), .regs = REGS_(SIZE), .print = "%d = *(u%z *)(%m)" },
	[EBPFDSL_SHAPE_LDSX] = { "ldsx", .words = "zdsO", .c_word = 1,
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(SRC), .opt = F_(OFF),
		.sizes = NO_DW_, .size_where = "here", .enc = E_(SRC, OFF, ZERO, ZERO), .r_off = R_(MEM_OFF),
		.regs = REGS_(R), .print = "%d = *(s%z *)(%m)" },
	[EBPFDSL_SHAPE_ST] = { "st", .words = "zdoi", .c_word = 1,
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(IMM), .opt = F_(OFF), .sizes = SIZES_,
		.enc = E_(ZERO, OFF, IMM, ZERO), .r_imm = R_(SIZED), .r_off = R_(MEM_OFF), .print = "*(u%z *)(%M) = %i" },
	[EBPFDSL_SHAPE_STX] = { "stx", .words = "zdos", .c_word = 1,
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(SRC), .opt = F_(OFF), .sizes = SIZES_,
		.enc = E_(SRC, OFF, ZERO, ZERO), .r_off = R_(MEM_OFF), .regs = REGS_(SIZE), .print = "*(u%z *)(%M) = %s" },
	/* the operation is the row's aux, in imm; %A picks its form */
	[EBPFDSL_SHAPE_ATOMIC] = { "atomic", .words = "zdos",
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(SRC), .opt = F_(OFF),
		.sizes = W_DW_, .size_where = "for atomics", .enc = E_(SRC, OFF, ROW, ZERO), .r_off = R_(MEM_OFF),
		.regs = REGS_(SIZE), .print = "%A" },
	[EBPFDSL_SHAPE_MAY_GOTO] = { "may_goto", .words = "g",
		.slots = 1, .jump = J_(OFF), .grow = G_(NEVER),
		.one1 = F_(TARGET) | F_(OFF), .enc = E_(ZERO, OFF, ZERO, ZERO), .r_off = R_(JUMP16),
		.print = "may_goto %o%@" },
	/* imm: two 16-bit address space numbers, src_as | dst_as << 16 */
	[EBPFDSL_SHAPE_ADDR_SPACE_CAST] = { "addr_space_cast", .slots = 1, .req = F_(DST) | F_(SRC) | F_(IMM),
		.enc = E_(SRC, ROW, IMM, ZERO), .r_imm = R_(ASPACE), .regs = REGS_(R),
		.print = "%d = addr_space_cast(%s, %h, %l)" },
	/* LLVM 19 has no syntax for these two; this is LLVM 21's, where the
	 * value register is a w register below 64 bits, as for ldx and stx */
	[EBPFDSL_SHAPE_LOAD_ACQ] = { "load_acquire", .words = "zdsO",
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(SRC), .opt = F_(OFF),
		.sizes = SIZES_, .enc = E_(SRC, OFF, ROW, ZERO), .r_off = R_(MEM_OFF), .regs = REGS_(SIZE),
		.print = "%d = load_acquire((u%z *)(%m))" },
	[EBPFDSL_SHAPE_STORE_REL] = { "store_release", .words = "zdos",
		.slots = 1, .req = F_(SIZE) | F_(DST) | F_(SRC), .opt = F_(OFF),
		.sizes = SIZES_, .enc = E_(SRC, OFF, ROW, ZERO), .r_off = R_(MEM_OFF), .regs = REGS_(SIZE),
		.print = "store_release((u%z *)(%M), %s)" },
	/* the opcode is op->code; whether it jumps, the opcode tells */
	[EBPFDSL_SHAPE_RAW] = { "raw", JUMP_, .jump = J_(RAW), .req = F_(CODE), .opt = F_(DST) | F_(SRC) | F_(OFF) | F_(IMM),
		.any_reg = 1, .enc = E_(SRC, OFF, IMM, ZERO), .r_imm = R_(RAW_IMM), .r_off = R_(RAW_OFF),
		.print = "<unknown>" },
};

/* What, 64-bit bounds, 32-bit twin's bounds, refusal of 0. An immediate
 * on 32 bits takes either signedness of the same bits; a 64-bit one is
 * sign-extended, so only the signed range means what it says. */
#define I16_ INT16_MIN, INT16_MAX
#define I32_ INT32_MIN, INT32_MAX
#define ANY32_ INT32_MIN, UINT32_MAX
const struct ebpfdsl__range ebpfdsl__ranges[] = {
	[R_(ST_W)] = { "immediate", ANY32_, ANY32_, NULL },
	[R_(ST_H)] = { "immediate", INT16_MIN, UINT16_MAX, INT16_MIN, UINT16_MAX, NULL },
	[R_(ST_B)] = { "immediate", INT8_MIN, UINT8_MAX, INT8_MIN, UINT8_MAX, NULL },
	[R_(ST_DW)] = { "immediate", I32_, I32_, NULL },
	[R_(IMM)] = { "immediate", I32_, ANY32_, NULL },
	[R_(IMM_ANY)] = { "immediate", ANY32_, ANY32_, NULL },
	[R_(SHIFT)] = { "shift amount", 0, 63, 0, 31, NULL },
	[R_(DIVISOR)] = { "immediate", I32_, ANY32_, "division by a zero immediate" },
	[R_(JUMP16)] = { "jump offset", I16_, I16_, NULL },
	[R_(JUMP32)] = { "jump offset", I32_, I32_, NULL },
	[R_(ASPACE)] = { "address spaces", 0, UINT32_MAX, 0, UINT32_MAX, NULL },
	[R_(HELPER)] = { "helper id", 0, INT32_MAX, 0, INT32_MAX, NULL },
	[R_(CALL)] = { "call offset", I32_, I32_, NULL },
	[R_(BTF)] = { "BTF id", 0, INT32_MAX, 0, INT32_MAX, NULL },
	[R_(FD_IDX)] = { "fd_array index", I16_, I16_, NULL },
	[R_(VALUE_OFF)] = { "value_offset", 0, UINT32_MAX, 0, UINT32_MAX, NULL },
	[R_(PKT_OFF)] = { "offset", I32_, I32_, NULL },
	[R_(MEM_OFF)] = { "offset", I16_, I16_, NULL },
	[R_(CODE)] = { "code", 0, 255, 0, 255, NULL },
	[R_(RAW_OFF)] = { "off", I16_, I16_, NULL },
	[R_(RAW_IMM)] = { "imm", ANY32_, ANY32_, NULL },
};
#undef I16_
#undef I32_
#undef ANY32_
#undef F_
#undef J_
#undef G_
#undef E_
#undef R_
#undef REGS_
#undef SIZES_
#undef NO_DW_
#undef W_DW_
#undef JUMP_

const char *ebpfdsl_shape_name(int shape)
{
	return shape >= 0 && shape <= EBPFDSL_SHAPE_RAW ? ebpfdsl__shapes[shape].name : NULL;
}

const char *ebpfdsl_shape_words(int shape, int *in_c)
{
	if (shape < 0 || shape > EBPFDSL_SHAPE_RAW)
		return NULL;
	if (in_c)
		*in_c = ebpfdsl__shapes[shape].c_word;
	return ebpfdsl__shapes[shape].words;
}

const char *ebpfdsl__field_name(unsigned bit)
{
	static const char *const names[] = { "dst", "src", "imm", "off", "size", "bits", "target", "value_offset",
					     "code" };
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bit == 1u << i)
			return names[i];
	return "?";
}

const struct ebpfdsl_isa_row *ebpfdsl_isa_row(int op)
{
	if (op < 0 || op >= EBPFDSL_OP_COUNT_)
		return NULL;
	return &ebpfdsl__isa_rows[op];
}

int ebpfdsl_isa_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < EBPFDSL_OP_COUNT_; i++)
		if (ebpfdsl__isa_rows[i].name[0] == name[0] && strcmp(ebpfdsl__isa_rows[i].name, name) == 0)
			return i;
	return -1;
}

int ebpfdsl_reg_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "fp") == 0)
		return BPF_REG_10;
	if (name[0] != 'r' || name[1] < '0' || name[1] > '9')
		return -1;
	if (name[2] == '\0')
		return name[1] - '0';
	if (name[1] == '1' && name[2] == '0' && name[3] == '\0')
		return BPF_REG_10;
	return -1;
}

int ebpfdsl_size_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "b") == 0)
		return EBPFDSL_SIZE_B;
	if (strcmp(name, "h") == 0)
		return EBPFDSL_SIZE_H;
	if (strcmp(name, "w") == 0)
		return EBPFDSL_SIZE_W;
	if (strcmp(name, "dw") == 0)
		return EBPFDSL_SIZE_DW;
	return -1;
}

const char *ebpfdsl_size_name(int size)
{
	switch (size) {
	case EBPFDSL_SIZE_B: return "b";
	case EBPFDSL_SIZE_H: return "h";
	case EBPFDSL_SIZE_W: return "w";
	case EBPFDSL_SIZE_DW: return "dw";
	default: return NULL;
	}
}

int ebpfdsl_op_slots(const struct ebpfdsl_op *op)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	return row ? ebpfdsl__shape_slots(row->shape) : 1;
}

unsigned ebpfdsl_op_jump_field(const struct ebpfdsl_op *op)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	switch (row ? ebpfdsl__shapes[row->shape].jump : EBPFDSL__JUMP_NONE) {
	case EBPFDSL__JUMP_OFF: return EBPFDSL_HAS_OFF;
	case EBPFDSL__JUMP_IMM: return EBPFDSL_HAS_IMM;
	default: return 0;
	}
}

int ebpfdsl__invert_jump(int op)
{
	switch (op) {
#define PAIR_(a, b) case EBPFDSL_OP_##a: return EBPFDSL_OP_##b; case EBPFDSL_OP_##b: return EBPFDSL_OP_##a;
#define TWINS_(a, b) PAIR_(a, b) PAIR_(a##32, b##32) /* the 32-bit forms invert alike */
	TWINS_(JEQ, JNE) TWINS_(JGT, JLE) TWINS_(JGE, JLT) TWINS_(JSGT, JSLE) TWINS_(JSGE, JSLT)
#undef TWINS_
#undef PAIR_
	default:
		return -1;
	}
}

struct ebpfdsl_op ebpfdsl_op_imm(int op, int dst, int64_t imm)
{
	struct ebpfdsl_op o = { .op = op, .has = EBPFDSL_HAS_DST | EBPFDSL_HAS_IMM, .dst = dst, .imm = imm };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_reg(int op, int dst, int src)
{
	struct ebpfdsl_op o = { .op = op, .has = EBPFDSL_HAS_DST | EBPFDSL_HAS_SRC, .dst = dst, .src = src };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_jmp_imm(int op, int dst, int64_t imm, const char *target)
{
	struct ebpfdsl_op o = ebpfdsl_op_imm(op, dst, imm);
	o.has |= EBPFDSL_HAS_TARGET;
	o.target = target;
	return o;
}

struct ebpfdsl_op ebpfdsl_op_jmp_reg(int op, int dst, int src, const char *target)
{
	struct ebpfdsl_op o = ebpfdsl_op_reg(op, dst, src);
	o.has |= EBPFDSL_HAS_TARGET;
	o.target = target;
	return o;
}

struct ebpfdsl_op ebpfdsl_op_mem(int op, int size, int dst, int src, int64_t off)
{
	struct ebpfdsl_op o = { .op = op,
				.has = EBPFDSL_HAS_SIZE | EBPFDSL_HAS_DST | EBPFDSL_HAS_SRC | EBPFDSL_HAS_OFF,
				.size = size, .dst = dst, .src = src, .off = off };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_call(int64_t helper_id)
{
	struct ebpfdsl_op o = { .op = EBPFDSL_OP_CALL, .has = EBPFDSL_HAS_IMM, .imm = helper_id };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_exit(void)
{
	struct ebpfdsl_op o = { .op = EBPFDSL_OP_EXIT };
	return o;
}
