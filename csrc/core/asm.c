/* SPDX-License-Identifier: MIT */
/* The assembler: each instruction is checked and encoded as emitted; the
 * ones that go somewhere (a label, or a numeric offset the shape follows)
 * are kept aside and resolved once at finalize, where jumps out of 16-bit
 * range are relaxed into gotol. Numeric jump offsets count slots as
 * emitted and are resolved like labels, to the instruction that started
 * there, so that relaxation elsewhere moves them along. The first error
 * is kept and reported with the instruction index and the label before it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

enum relax {
	RELAX_NONE,
	RELAX_GOTOL,     /* ja L           -> gotol L */
	RELAX_INVERTED,  /* if c goto L    -> if !c goto +1; gotol L */
	RELAX_JSET       /* if a & b goto L -> if a & b goto +1; goto +1; gotol L */
};

/* An instruction that goes somewhere, kept until finalize: its bytes
 * are in out (the distance 0 for a label), patched once it is known. */
struct jump {     /* the ints together: 40 bytes, not 48 */
	int op;         /* enum ebpfdsl_mnemonic */
	int label;      /* label id it goes to, or -1: a numeric offset */
	int after;      /* id of the last label defined before it, or -1 */
	int relax;      /* enum relax */
	size_t slot;    /* slot as emitted, before relaxation */
	size_t dest;    /* at finalize: the emitted slot it goes to (the end
	                 * included), or SIZE_MAX for numeric offsets that land
	                 * where no instruction starts, and raw jumps */
	size_t grown;   /* slots the jumps before it grew: where it moved */
};

struct label {
	size_t name;    /* offset of its name in the assembler's names */
	uint32_t hash, len; /* of the name, without its NUL */
	size_t slot;    /* emitted slot it stands before (final slot after
	                 * finalize); SIZE_MAX: undefined */
	size_t first_use; /* the jump that first named it, or SIZE_MAX */
};

/* Room for this many labels and jumps at first (twice as many buckets,
 * 16 bytes of name each), doubled as needed. Not more: beside the 128 KiB
 * of slots, a first reserve of 256 put the heap of one assembler of 4096
 * instructions past glibc's trim threshold, so that free gave the heap
 * back and the next program took it again (a brk pair per program, and a
 * third of the rate). Programs of some 8000 instructions or more still
 * cross it (with a first reserve of 16 and 64, from some 4800 did). */
#define FIRST_LABELS 128

struct ebpfdsl_asm {
	int cpu, no_relax;
	struct bpf_insn *out; /* encoded as emitted; relaxed at finalize */
	size_t slots, capslots;
	uint64_t *inner;      /* a bit per slot: the second slot of lddw and its kin */
	struct jump *jumps;
	size_t njumps, capjumps;
	struct label *labels;
	size_t nlabels, caplabels;
	int *buckets;   /* open addressing over labels, -1 empty */
	size_t nbuckets;
	char *names;    /* every label's name, NUL-terminated, one after another */
	size_t names_len, names_cap;
	int last_label;
	int recent;     /* the label intern found or made last, or -1 */
	size_t nout;
	int finalized, failed;
	char err[EBPFDSL_ERRLEN];
};

ebpfdsl_asm *ebpfdsl_asm__new(const struct ebpfdsl_asm_opts *opts)
{
	ebpfdsl_asm *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->cpu = 4;
	if (opts && opts->sz >= offsetof(struct ebpfdsl_asm_opts, cpu) + sizeof(int) && opts->cpu)
		a->cpu = opts->cpu;
	if (opts && opts->sz >= offsetof(struct ebpfdsl_asm_opts, no_relax) + sizeof(int))
		a->no_relax = opts->no_relax;
	a->last_label = -1;
	a->recent = -1;
	if (a->cpu < 1 || a->cpu > 4) {
		a->failed = 1;
		snprintf(a->err, sizeof(a->err), "cpu must be 1..4, got %d", a->cpu);
	}
	return a;
}

void ebpfdsl_asm__free(ebpfdsl_asm *a)
{
	if (!a)
		return;
	free(a->names);
	free(a->labels);
	free(a->buckets);
	free(a->jumps);
	free(a->inner);
	free(a->out);
	free(a);
}

const char *ebpfdsl_asm__error(const ebpfdsl_asm *a)
{
	return a->failed ? a->err : NULL;
}

size_t ebpfdsl_asm__count(const ebpfdsl_asm *a)
{
	return a->slots;
}

static int set_error(ebpfdsl_asm *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_error(ebpfdsl_asm *a, const char *fmt, ...)
{
	va_list ap;
	if (a->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	a->failed = 1;
	return -1;
}

static const char *label_name(const ebpfdsl_asm *a, int id)
{
	return a->names + a->labels[id].name;
}

/* "insn 12 (jeq, after label 'loop')" */
static const char *where(const ebpfdsl_asm *a, size_t slot, int op, int after, char *buf, size_t len)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op);
	if (after >= 0)
		snprintf(buf, len, "insn %zu (%s, after label '%s')", slot, row->name, label_name(a, after));
	else
		snprintf(buf, len, "insn %zu (%s)", slot, row->name);
	return buf;
}

static const char *where_jump(const ebpfdsl_asm *a, const struct jump *j, char *buf, size_t len)
{
	return where(a, j->slot, j->op, j->after, buf, len);
}

/* FNV-1a over the name 8 bytes at a time (the tail gathered into a
 * last word), then mixed so that every byte reaches the low bits the
 * buckets use: a few steps per name, not per byte. */
static uint32_t hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 1099511628211ull;
	}
	for (w = 0; i < len; i++)
		w = w << 8 | (uint8_t)s[i];
	h = (h ^ w) * 1099511628211ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ h >> 32);
}

static int grow_buckets(ebpfdsl_asm *a)
{
	size_t n = a->nbuckets ? a->nbuckets * 2 : 2 * FIRST_LABELS;
	int *b = malloc(n * sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < n; i++)
		b[i] = -1;
	for (size_t i = 0; i < a->nlabels; i++) {
		size_t k = a->labels[i].hash & (n - 1);
		while (b[k] >= 0)
			k = (k + 1) & (n - 1);
		b[k] = (int)i;
	}
	free(a->buckets);
	a->buckets = b;
	a->nbuckets = n;
	return 0;
}

/* Copies a name of len bytes and its NUL to the end of a->names: its
 * offset, or SIZE_MAX on ENOMEM. One buffer for all, not a malloc per
 * label. */
static size_t keep_name(ebpfdsl_asm *a, const char *name, size_t len)
{
	size_t at = a->names_len;
	len++;
	if (a->names_cap - a->names_len < len) {
		size_t cap = a->names_cap ? a->names_cap : 16 * FIRST_LABELS;
		char *p;
		while (cap - a->names_len < len)
			cap *= 2;
		p = realloc(a->names, cap);
		if (!p)
			return SIZE_MAX;
		a->names = p;
		a->names_cap = cap;
	}
	memcpy(a->names + at, name, len);
	a->names_len += len;
	return at;
}

/* intern for a name that is not the last one: the table. */
static __attribute__((noinline)) int lookup(ebpfdsl_asm *a, const char *name)
{
	size_t len, k;
	uint32_t h;
	len = strlen(name);
	h = hash(name, len);
	if (a->nlabels * 2 >= a->nbuckets && grow_buckets(a))
		return -1;
	for (k = h & (a->nbuckets - 1); a->buckets[k] >= 0; k = (k + 1) & (a->nbuckets - 1)) {
		const struct label *l = &a->labels[a->buckets[k]];
		if (l->hash == h && l->len == len && memcmp(a->names + l->name, name, len) == 0)
			return a->recent = a->buckets[k];
	}
	if (a->nlabels == a->caplabels) {
		size_t n = a->caplabels ? a->caplabels * 2 : FIRST_LABELS;
		struct label *l = realloc(a->labels, n * sizeof(*l));
		if (!l)
			return -1;
		a->labels = l;
		a->caplabels = n;
	}
	if (len > UINT32_MAX)
		return -1;
	a->labels[a->nlabels].name = keep_name(a, name, len);
	if (a->labels[a->nlabels].name == SIZE_MAX)
		return -1;
	a->labels[a->nlabels].hash = h;
	a->labels[a->nlabels].len = (uint32_t)len;
	a->labels[a->nlabels].slot = SIZE_MAX;
	a->labels[a->nlabels].first_use = SIZE_MAX;
	a->buckets[k] = (int)a->nlabels;
	return a->recent = (int)a->nlabels++;
}

/* The id of a label, created undefined when first seen; -1 on ENOMEM.
 * A label is named again and again in a row (the jumps to it, then
 * itself): one comparison with the last, where the table takes a hash
 * and a probe. */
static inline int intern(ebpfdsl_asm *a, const char *name)
{
	if (a->recent >= 0 && strcmp(a->names + a->labels[a->recent].name, name) == 0)
		return a->recent;
	return lookup(a, name);
}

int ebpfdsl_asm__label(ebpfdsl_asm *a, const char *name)
{
	int id;
	if (a->failed)
		return -1;
	if (a->finalized)
		return set_error(a, "label '%s' after finalize", name ? name : "");
	if (!name || !*name)
		return set_error(a, "insn %zu: label needs a non-empty name", a->slots);
	id = intern(a, name);
	if (id < 0)
		return set_error(a, "out of memory");
	if (a->labels[id].slot != SIZE_MAX)
		return set_error(a, "insn %zu: duplicate label '%s' (first defined at insn %zu)", a->slots, name,
				 a->labels[id].slot);
	a->labels[id].slot = a->slots;
	a->last_label = id;
	return 0;
}

/* The error of an op the validator refused, or of a target without a
 * name: kept out of emit so that its buffers cost emit nothing. */
static __attribute__((noinline)) int refuse(ebpfdsl_asm *a, const struct ebpfdsl_op *op, const char *why)
{
	char msg[EBPFDSL_ERRLEN - 64], w[160];
	if (!why) {
		ebpfdsl__validate(op, a->cpu, msg, sizeof(msg));
		why = msg;
	}
	return set_error(a, "%s: %s", where(a, a->slots, op->op, a->last_label, w, sizeof(w)), why);
}

/* Room for two more slots (and their bits in inner). */
static __attribute__((noinline)) int grow_slots(ebpfdsl_asm *a)
{
	/* a first 128 KiB that most programs never outgrow; glibc serves it
	 * by mmap once, then raises its trim threshold past it, so assembling
	 * one program after another does not fault the heap in each time */
	size_t n = a->capslots ? a->capslots * 2 : 16384;
	struct bpf_insn *out = realloc(a->out, n * sizeof(*out));
	uint64_t *inner;
	if (!out)
		return -1;
	a->out = out;
	inner = realloc(a->inner, n / 64 * sizeof(*inner));
	if (!inner)
		return -1;
	memset(inner + a->capslots / 64, 0, (n - a->capslots) / 64 * sizeof(*inner));
	a->inner = inner;
	a->capslots = n;
	return 0;
}

/* Counts the slots of the instruction emitted at `at`: 0. The second
 * slot of lddw and its kin is marked inner. */
static inline int count(ebpfdsl_asm *a, size_t at, int slots)
{
	if (slots == 2)
		a->inner[(at + 1) / 64] |= 1ull << ((at + 1) % 64);
	a->slots = at + (size_t)slots;
	return 0;
}

/* Keeps an instruction that goes somewhere for finalize (emit encodes
 * it: a label's distance, absent from has, encodes as 0). */
static inline int keep_jump(ebpfdsl_asm *a, const struct ebpfdsl_op *op)
{
	struct jump *j;
	if (a->njumps == a->capjumps) {
		size_t n = a->capjumps ? a->capjumps * 2 : FIRST_LABELS;
		struct jump *p = realloc(a->jumps, n * sizeof(*p));
		if (!p)
			return set_error(a, "out of memory");
		a->jumps = p;
		a->capjumps = n;
	}
	j = &a->jumps[a->njumps];
	j->op = op->op;
	j->slot = a->slots;
	j->label = -1;
	j->after = a->last_label;
	j->relax = RELAX_NONE;
	j->dest = SIZE_MAX;
	j->grown = 0;
	if (op->has & EBPFDSL_HAS_TARGET) {
		if (!op->target || !*op->target)
			return refuse(a, op, "target needs a non-empty label name");
		j->label = intern(a, op->target);
		if (j->label < 0)
			return set_error(a, "out of memory");
		if (a->labels[j->label].first_use == SIZE_MAX)
			a->labels[j->label].first_use = a->njumps;
	}
	a->njumps++;
	return 0;
}

/* Checks and encodes an op; keeps what goes somewhere. Every op that
 * emit does not take straight comes here: the validator's verdict (and
 * its refusal), growth, jumps, and the table-driven encoder. */
static __attribute__((noinline)) int emit_general(ebpfdsl_asm *a, const struct ebpfdsl_op *op)
{
	const struct ebpfdsl__row_plan *p;
	int plain;
	if (a->failed)
		return -1;
	if (a->finalized)
		return set_error(a, "emit after finalize");
	if ((unsigned)op->op >= EBPFDSL_OP_COUNT_)
		return set_error(a, "insn %zu: unknown mnemonic number %d", a->slots, op->op);
	p = ebpfdsl__plan(op->op);
	plain = p->cpu <= a->cpu && ebpfdsl__fast_valid(op, p);
	if (!plain && ebpfdsl__validate_row(op, ebpfdsl__row(op->op), a->cpu, NULL, 0)) /* no text unless refused */
		return refuse(a, op, NULL);
	if (a->capslots - a->slots < 2 && grow_slots(a))
		return set_error(a, "out of memory");
	if ((p->kept || (op->has & EBPFDSL_HAS_TARGET)) && keep_jump(a, op))
		return -1;
	if (plain && p->plain)
		ebpfdsl__encode_plain(op, p, a->out + a->slots);
	else
		ebpfdsl__encode(op, a->out + a->slots);
	return count(a, a->slots, p->slots);
}

/* The rest of emit for an op that goes somewhere, encoded already: it
 * is kept for finalize, then counted. */
static __attribute__((noinline)) int emit_kept(ebpfdsl_asm *a, const struct ebpfdsl_op *op)
{
	size_t at = a->slots;
	if (keep_jump(a, op))
		return -1;
	return count(a, at, ebpfdsl__plan(op->op)->slots);
}

/* The usual op, of a plain row, passes straight_valid and is encoded by
 * its plan here, in a leaf that saves no registers (one that goes
 * somewhere is then kept by emit_kept); anything else goes to
 * emit_general, which decides as if first. */
int ebpfdsl_asm__emit(ebpfdsl_asm *a, const struct ebpfdsl_op *op)
{
	const struct ebpfdsl__row_plan *p;
	size_t at = a->slots;
	if ((a->failed | a->finalized) || (unsigned)op->op >= EBPFDSL_OP_COUNT_)
		return emit_general(a, op);
	p = ebpfdsl__plan(op->op);
	if (p->cpu > a->cpu || a->capslots - at < 2 || !ebpfdsl__straight_valid(op, p))
		return emit_general(a, op);
	ebpfdsl__encode_straight(op, p, a->out + at);
	if (p->kept | (op->has & EBPFDSL_HAS_TARGET))
		return emit_kept(a, op);
	return count(a, at, p->slots);
}

static int check_labels(ebpfdsl_asm *a)
{
	char w[160];
	for (size_t i = 0; i < a->nlabels; i++) {
		const struct label *l = &a->labels[i];
		if (l->slot == SIZE_MAX && l->first_use != SIZE_MAX)
			return set_error(a, "%s: undefined label '%s'",
					 where_jump(a, &a->jumps[l->first_use], w, sizeof(w)), a->names + l->name);
	}
	return 0;
}

/* Is the distance of row's jump in the encoded imm (local calls,
 * ld_func, gotol) rather than off? The shape's enc column tells. */
static int distance_in_imm(int op)
{
	const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[ebpfdsl__row(op)->shape];
	return sh->enc[2] == (sh->jump == EBPFDSL__JUMP_IMM ? EBPFDSL__FROM_IMM : EBPFDSL__FROM_OFF);
}

/* For a jump, local call or ld_func without a label: 1 with the
 * relative offset its bytes carry in *rel; 0 when it goes nowhere (raw
 * bytes that are no jump included). */
static int numeric_jump(const ebpfdsl_asm *a, const struct jump *j, int64_t *rel)
{
	const struct bpf_insn *in = &a->out[j->slot]; /* read before spread moves it */
	if (j->label >= 0)
		return 0;
	switch (ebpfdsl__shapes[ebpfdsl__row(j->op)->shape].jump) {
	case EBPFDSL__JUMP_OFF:
	case EBPFDSL__JUMP_IMM:
		*rel = distance_in_imm(j->op) ? in->imm : in->off;
		return 1;
	case EBPFDSL__JUMP_RAW: {
		/* raw bytes of a jump class: off is a distance (the 32-bit
		 * ja, gotol, keeps it in imm); calls and exit go nowhere */
		int cls = BPF_CLASS(in->code), bop = BPF_OP(in->code);
		if ((cls != BPF_JMP && cls != BPF_JMP32) || bop == BPF_CALL || bop == BPF_EXIT)
			return 0;
		*rel = cls == BPF_JMP32 && bop == BPF_JA ? in->imm : in->off;
		return 1;
	}
	default:
		return 0;
	}
}

/* Does an instruction start at emitted slot `slot` (the end of the
 * program counts)? Not inside one, not out of the program. */
static int starts_at(const ebpfdsl_asm *a, int64_t slot)
{
	if (slot < 0 || (uint64_t)slot > a->slots)
		return 0;
	return (size_t)slot == a->slots || !(a->inner[slot / 64] & (1ull << (slot % 64)));
}

/* Where each jump goes: its label's slot, or for a numeric offset the
 * slot it counts to when an instruction starts there. Raw jumps keep
 * their bytes and are only checked, once laid out (check_unmoved). */
static void resolve(ebpfdsl_asm *a)
{
	for (size_t i = 0; i < a->njumps; i++) {
		struct jump *j = &a->jumps[i];
		int64_t rel, to;
		if (j->label >= 0)
			j->dest = a->labels[j->label].slot;
		else if (j->op != EBPFDSL_OP_RAW && numeric_jump(a, j, &rel) &&
			 starts_at(a, to = (int64_t)j->slot + 1 + rel))
			j->dest = (size_t)to;
	}
}

/* "label 'x'" or "insn 12" (slot as emitted): where a jump goes. */
static const char *dest_name(const ebpfdsl_asm *a, const struct jump *j, char *buf, size_t len)
{
	if (j->label >= 0)
		snprintf(buf, len, "label '%s'", label_name(a, j->label));
	else if (j->dest < a->slots)
		snprintf(buf, len, "insn %zu", j->dest);
	else
		snprintf(buf, len, "the end of the program");
	return buf;
}

/* Slots a relaxed jump adds: gotol takes ja's one. */
static size_t relaxed_slots(int relax)
{
	return relax == RELAX_JSET ? 2 : relax == RELAX_INVERTED ? 1 : 0;
}

/* How far emitted slot `slot` moved: the growth of every jump before it
 * (a slot inside an instruction moves with it). Jumps are in slot order. */
static size_t moved(const ebpfdsl_asm *a, int64_t slot)
{
	size_t lo = 0, hi = a->njumps;
	if (slot <= 0 || a->njumps == 0)
		return 0;
	/* the first jump at or after slot */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)a->jumps[mid].slot < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->njumps)
		return a->jumps[lo - 1].grown + relaxed_slots(a->jumps[lo - 1].relax);
	return a->jumps[lo].grown;
}

/* Sets each jump's growth before it; the program's growth in all. */
static size_t layout(ebpfdsl_asm *a)
{
	size_t g = 0;
	for (size_t i = 0; i < a->njumps; i++) {
		a->jumps[i].grown = g;
		g += relaxed_slots(a->jumps[i].relax);
	}
	return g;
}

/* Grows jumps that do not reach until every one does. Growth only
 * lengthens the program, so this ends. */
static int relax(ebpfdsl_asm *a)
{
	char w[160], d[160];
	if (a->slots <= INT16_MAX) /* no distance in a program this short exceeds 16 bits */
		return 0;
	for (int changed = 1; changed;) {
		changed = 0;
		layout(a);
		for (size_t i = 0; i < a->njumps; i++) {
			struct jump *j = &a->jumps[i];
			int grow = ebpfdsl__shapes[ebpfdsl__row(j->op)->shape].grow;
			int64_t dist;
			if (j->dest == SIZE_MAX || j->relax != RELAX_NONE || grow == EBPFDSL__GROW_NONE)
				continue;
			dist = (int64_t)(j->dest + moved(a, (int64_t)j->dest)) - (int64_t)(j->slot + j->grown) - 1;
			if (dist >= INT16_MIN && dist <= INT16_MAX)
				continue;
			if (grow == EBPFDSL__GROW_NEVER) /* it has no 32-bit form */
				return set_error(a, "%s: may_goto to %s is %lld slots away, beyond its 16-bit range "
						 "-32768..32767", where_jump(a, j, w, sizeof(w)), dest_name(a, j, d, sizeof(d)),
						 (long long)dist);
			if (a->no_relax || a->cpu < 4)
				return set_error(a,
						 "%s: jump to %s is %lld slots away, beyond the 16-bit range "
						 "-32768..32767, and %s",
						 where_jump(a, j, w, sizeof(w)), dest_name(a, j, d, sizeof(d)), (long long)dist,
						 a->no_relax ? "relaxation into gotol is off" : "gotol needs cpu v4");
			j->relax = grow == EBPFDSL__GROW_GOTOL ? RELAX_GOTOL :
				   ebpfdsl__invert_jump(j->op) >= 0 ? RELAX_INVERTED : RELAX_JSET;
			changed = 1;
		}
	}
	return 0;
}

/* A numeric offset that could not be resolved (into the middle of an
 * lddw, out of the program, or a raw jump's bytes) keeps its value,
 * which is only right while no relaxed jump lies between it and where
 * it goes. */
static int check_unmoved(ebpfdsl_asm *a)
{
	char w[160];
	for (size_t i = 0; i < a->njumps; i++) {
		const struct jump *j = &a->jumps[i];
		int64_t rel, to;
		if (j->dest != SIZE_MAX || !numeric_jump(a, j, &rel))
			continue;
		to = (int64_t)j->slot + 1 + rel;
		if (moved(a, to) == j->grown)
			continue;
		return set_error(a,
				 "%s: offset %+lld goes to slot %lld as emitted, %s, and a jump relaxed into gotol "
				 "lies between, so the offset no longer means that place; use a label",
				 where_jump(a, j, w, sizeof(w)), (long long)rel, (long long)to,
				 j->op == EBPFDSL_OP_RAW ? "from raw bytes, which are kept as given"
				 : to < 0 || (uint64_t)to > a->slots ? "outside the program"
								    : "inside an instruction");
	}
	return 0;
}

/* The longer forms of a relaxed jump j at out, `dist` slots from where
 * it goes: the condition inverted (jset kept, over a ja), then gotol.
 * Out of encode_jump, which most jumps leave with a distance patched. */
static __attribute__((noinline)) void encode_relaxed(const struct jump *j, struct bpf_insn *out, int64_t dist)
{
	struct ebpfdsl_op gotol = { .op = EBPFDSL_OP_GOTOL, .has = EBPFDSL_HAS_OFF };
	struct ebpfdsl_op skip = { .op = EBPFDSL_OP_JA, .has = EBPFDSL_HAS_OFF, .off = 1 };
	switch (j->relax) {
	case RELAX_GOTOL:
		gotol.off = dist;
		ebpfdsl__encode(&gotol, out);
		return;
	case RELAX_INVERTED:
		out[0].code = (uint8_t)(ebpfdsl__row(ebpfdsl__invert_jump(j->op))->code | (out[0].code & BPF_X));
		out[0].off = 1;
		gotol.off = dist - 1;
		ebpfdsl__encode(&gotol, out + 1);
		return;
	default: /* RELAX_JSET */
		out[0].off = 1;
		ebpfdsl__encode(&skip, out + 1);
		gotol.off = dist - 2;
		ebpfdsl__encode(&gotol, out + 2);
		return;
	}
}

/* Patches jump j, moved to out + (its slot + growth before it), with the
 * distance to where it goes, or its relaxed form. */
static void encode_jump(ebpfdsl_asm *a, const struct jump *j)
{
	size_t at = j->slot + j->grown;
	struct bpf_insn *out = a->out + at;
	int64_t to, dist;

	if (j->dest == SIZE_MAX)
		return; /* its bytes as emitted */
	to = (int64_t)(j->dest + (a->nout != a->slots ? moved(a, (int64_t)j->dest) : 0)); /* nothing grew: 0 */
	dist = to - (int64_t)at - 1;
	if (j->relax != RELAX_NONE)
		encode_relaxed(j, out, dist);
	else if (distance_in_imm(j->op))
		out->imm = (int32_t)dist;
	else
		out->off = (int16_t)dist;
}

/* Moves the instructions apart where jumps grew: from the last relaxed
 * jump down, the run of slots after each moves by the growth up to it
 * (the jumps themselves are written again by encode_jump). */
static int spread(ebpfdsl_asm *a, size_t growth)
{
	size_t n = a->slots + growth, end = a->slots;
	if (n > a->capslots) {
		struct bpf_insn *out = realloc(a->out, n * sizeof(*out));
		if (!out)
			return set_error(a, "out of memory");
		a->out = out;
		a->capslots = n; /* inner, no longer read, keeps its size */
	}
	for (size_t i = a->njumps; i-- > 0;) {
		const struct jump *j = &a->jumps[i];
		if (j->relax == RELAX_NONE)
			continue;
		memmove(a->out + j->slot + 1 + j->grown + relaxed_slots(j->relax), a->out + j->slot + 1,
			(end - j->slot - 1) * sizeof(*a->out));
		end = j->slot + 1; /* its own bytes move with the run before it */
	}
	return 0;
}

int ebpfdsl_asm__finalize(ebpfdsl_asm *a)
{
	size_t growth = 0;
	if (a->failed)
		return -1;
	if (a->finalized)
		return 0;
	if (check_labels(a))
		return -1;
	resolve(a);
	if (relax(a))
		return -1;
	if (a->slots > INT16_MAX)
		growth = layout(a);
	/* with nothing grown, every offset still means the place it did */
	if (growth && (check_unmoved(a) || spread(a, growth)))
		return -1;
	if (!a->out && grow_slots(a)) /* an empty program has a buffer too */
		return set_error(a, "out of memory");
	a->nout = a->slots + growth;
	for (size_t i = 0; i < a->njumps; i++)
		encode_jump(a, &a->jumps[i]);
	/* labels now name final slots */
	for (size_t i = 0; growth && i < a->nlabels; i++)
		if (a->labels[i].slot != SIZE_MAX)
			a->labels[i].slot += moved(a, (int64_t)a->labels[i].slot);
	a->finalized = 1;
	return 0;
}

const struct bpf_insn *ebpfdsl_asm__insns(const ebpfdsl_asm *a, size_t *cnt)
{
	if (!a->finalized || a->failed) {
		if (cnt)
			*cnt = 0;
		return NULL;
	}
	if (cnt)
		*cnt = a->nout;
	return a->out;
}

int ebpfdsl_asm__label_at(const ebpfdsl_asm *a, size_t i, const char **name, size_t *slot)
{
	if (!a->finalized || i >= a->nlabels)
		return -ENOENT;
	*name = label_name(a, (int)i);
	*slot = a->labels[i].slot;
	return a->labels[i].slot == SIZE_MAX ? -ENOENT : 0;
}
