/* SPDX-License-Identifier: MIT */
/* Decoder round trip: any bytes decode (what no row encodes comes back as
 * "raw"), print, and assemble back to the very same bytes, both with the
 * decoder's numeric jump offsets and with labels made up where jumps land
 * (what disassemble gives the Lua user), and the listing labels the same
 * places. */
#include "fuzz.h"

#define MAX_INSNS 4096

static void assemble_same(const struct bpf_insn *insns, size_t cnt, const struct ebpfdsl_op *ops, size_t n,
			  const unsigned char *starts, int labels)
{
	struct ebpfdsl_asm_opts o = { .sz = sizeof(o), .cpu = 4, .no_relax = 1 };
	ebpfdsl_asm *a = ebpfdsl_asm__new(&o);
	static char names[MAX_INSNS + 1][16];
	const struct bpf_insn *out;
	size_t got = 0, pc = 0;

	FUZZ_CHECK(a, "out of memory");
	for (size_t k = 0; k <= n; k++) {
		if (labels && starts[pc] == 2) { /* something jumps here */
			snprintf(names[pc], sizeof(names[pc]), "L%zu", pc);
			ebpfdsl_asm__label(a, names[pc]);
		}
		if (k == n)
			break;
		struct ebpfdsl_op op = ops[k];
		int64_t to = ebpfdsl_op_jump_target(&op, pc);
		if (labels && to >= 0 && (size_t)to <= cnt && starts[to] == 2) {
			snprintf(names[to], sizeof(names[to]), "L%lld", (long long)to);
			op.target = names[to];
			op.has |= EBPFDSL_HAS_TARGET;
			op.has &= ~ebpfdsl_op_jump_field(&op); /* the label stands in for the distance */
		}
		ebpfdsl_asm__emit(a, &op);
		pc += (size_t)ebpfdsl_op_slots(&ops[k]);
	}
	FUZZ_CHECK(ebpfdsl_asm__finalize(a) == 0, "%s assembling %zu decoded instructions (labels %d)",
		   ebpfdsl_asm__error(a), n, labels);
	out = ebpfdsl_asm__insns(a, &got);
	FUZZ_CHECK(got == cnt, "%zu slots back for %zu", got, cnt);
	for (size_t i = 0; i < cnt; i++)
		FUZZ_CHECK(memcmp(&out[i], &insns[i], sizeof(insns[i])) == 0, "slot %zu differs (labels %d)", i,
			   labels);
	ebpfdsl_asm__free(a);
}

/* The listing (what dump prints) labels exactly the places jumps land,
 * L<slot> with no labels given, and its text is as long as it says. */
static void listing_agrees(const struct bpf_insn *insns, size_t cnt, const unsigned char *starts)
{
	ebpfdsl_listing *l = ebpfdsl_listing__new(insns, cnt, NULL, 0);
	char want[32], small[8], *text;
	int len;

	FUZZ_CHECK(l, "out of memory");
	for (size_t pc = 0; pc <= cnt; pc++) {
		const char *name = ebpfdsl_listing__label(l, (int64_t)pc);
		snprintf(want, sizeof(want), "L%zu", pc);
		FUZZ_CHECK((starts[pc] == 2) == (name != NULL), "label at %zu: %s", pc, name ? name : "none");
		FUZZ_CHECK(!name || strcmp(name, want) == 0, "label at %zu is %s", pc, name);
	}
	len = ebpfdsl_listing__text(l, NULL, NULL, 0);
	text = malloc((size_t)len + 1);
	FUZZ_CHECK(text && ebpfdsl_listing__text(l, NULL, text, (size_t)len + 1) == len && strlen(text) == (size_t)len,
		   "text length %d", len);
	FUZZ_CHECK(ebpfdsl_listing__text(l, NULL, small, sizeof(small)) == len &&
			   strncmp(small, text, strlen(small)) == 0,
		   "a short buffer's text");
	free(text);
	ebpfdsl_listing__free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ebpfdsl_op ops[MAX_INSNS];
	static unsigned char starts[MAX_INSNS + 1];
	struct bpf_insn *insns;
	size_t cnt = size / sizeof(struct bpf_insn), n = 0;
	char text[512];

	if (cnt == 0 || cnt > MAX_INSNS)
		return 0;
	insns = malloc(cnt * sizeof(*insns));
	memcpy(insns, data, cnt * sizeof(*insns));
	memset(starts, 0, cnt + 1);
	for (size_t pc = 0; pc < cnt; n++) {
		int slots = ebpfdsl_decode(insns, cnt, pc, &ops[n]);
		FUZZ_CHECK(slots == 1 || slots == 2, "decode gave %d slots at %zu", slots, pc);
		FUZZ_CHECK(slots == ebpfdsl_op_slots(&ops[n]), "decode and op_slots disagree at %zu", pc);
		FUZZ_CHECK(pc + (size_t)slots <= cnt, "an instruction past the end at %zu", pc);
		starts[pc] = 1;
		int len = ebpfdsl_op_print(text, sizeof(text), &ops[n], ebpfdsl_op_annotation(&ops[n], "label"));
		FUZZ_CHECK(len >= 0 && (size_t)len < sizeof(text) && strlen(text) == (size_t)len, "print length %d", len);
		pc += (size_t)slots;
	}
	starts[cnt] = 1;
	for (size_t k = 0, pc = 0; k < n; pc += (size_t)ebpfdsl_op_slots(&ops[k]), k++) {
		int64_t to = ebpfdsl_op_jump_target(&ops[k], pc);
		if (to >= 0 && (size_t)to <= cnt && starts[to])
			starts[to] = 2;
	}
	assemble_same(insns, cnt, ops, n, starts, 0);
	assemble_same(insns, cnt, ops, n, starts, 1);
	listing_agrees(insns, cnt, starts);
	free(insns);
	return 0;
}
