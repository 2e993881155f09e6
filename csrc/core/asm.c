/* SPDX-License-Identifier: MIT */
/* The assembler: instructions and labels are recorded as emitted, and
 * resolved once at finalize, where jumps out of 16-bit range are relaxed
 * into gotol. Numeric jump offsets count slots as emitted and are
 * resolved like labels, to the instruction that started there, so that
 * relaxation elsewhere moves them along. The first error is kept and
 * reported with the instruction index and the label before it. */
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

struct item {
	struct ebpfdsl_op op;
	int shape;      /* its row's, looked up once */
	int jumps;      /* its shape can go somewhere (numeric_jump asks) */
	int label;      /* label id the op goes to, or -1 */
	int after;      /* id of the last label defined before it, or -1 */
	size_t slot;    /* slot as emitted, before relaxation */
	int relax;      /* enum relax */
	size_t dest;    /* at finalize: the item it goes to (nitems: the end),
	                 * or SIZE_MAX for none and for numeric offsets that
	                 * land where no instruction starts */
};

struct label {
	size_t name;    /* offset of its name in the assembler's names */
	uint32_t hash;
	size_t item;    /* index of the item it stands before; SIZE_MAX: undefined */
	size_t first_use;
};

struct ebpfdsl_asm {
	int cpu, no_relax;
	struct item *items;
	size_t nitems, capitems, slots;
	struct label *labels;
	size_t nlabels, caplabels;
	int *buckets;   /* open addressing over labels, -1 empty */
	size_t nbuckets;
	char *names;    /* every label's name, NUL-terminated, one after another */
	size_t names_len, names_cap;
	int last_label;
	struct bpf_insn *out;
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
	free(a->items);
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
static const char *where(const ebpfdsl_asm *a, const struct item *it, char *buf, size_t len)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(it->op.op);
	if (it->after >= 0)
		snprintf(buf, len, "insn %zu (%s, after label '%s')", it->slot, row->name, label_name(a, it->after));
	else
		snprintf(buf, len, "insn %zu (%s)", it->slot, row->name);
	return buf;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int grow_buckets(ebpfdsl_asm *a)
{
	size_t n = a->nbuckets ? a->nbuckets * 2 : 64;
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

/* Copies a name to the end of a->names: its offset, or SIZE_MAX on
 * ENOMEM. One buffer for all, not a malloc per label. */
static size_t keep_name(ebpfdsl_asm *a, const char *name)
{
	size_t len = strlen(name) + 1, at = a->names_len;
	if (a->names_cap - a->names_len < len) {
		size_t cap = a->names_cap ? a->names_cap : 1024;
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

/* The id of a label, created undefined when first seen; -1 on ENOMEM. */
static int intern(ebpfdsl_asm *a, const char *name)
{
	uint32_t h = hash(name);
	size_t k;
	if (a->nlabels * 2 >= a->nbuckets && grow_buckets(a))
		return -1;
	for (k = h & (a->nbuckets - 1); a->buckets[k] >= 0; k = (k + 1) & (a->nbuckets - 1)) {
		const struct label *l = &a->labels[a->buckets[k]];
		if (l->hash == h && strcmp(a->names + l->name, name) == 0)
			return a->buckets[k];
	}
	if (a->nlabels == a->caplabels) {
		size_t n = a->caplabels ? a->caplabels * 2 : 16;
		struct label *l = realloc(a->labels, n * sizeof(*l));
		if (!l)
			return -1;
		a->labels = l;
		a->caplabels = n;
	}
	a->labels[a->nlabels].name = keep_name(a, name);
	if (a->labels[a->nlabels].name == SIZE_MAX)
		return -1;
	a->labels[a->nlabels].hash = h;
	a->labels[a->nlabels].item = SIZE_MAX;
	a->labels[a->nlabels].first_use = SIZE_MAX;
	a->buckets[k] = (int)a->nlabels;
	return (int)a->nlabels++;
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
	if (a->labels[id].item != SIZE_MAX) {
		size_t first = a->labels[id].item;
		size_t first_slot = first < a->nitems ? a->items[first].slot : a->slots;
		return set_error(a, "insn %zu: duplicate label '%s' (first defined at insn %zu)", a->slots, name,
				 first_slot);
	}
	a->labels[id].item = a->nitems;
	a->last_label = id;
	return 0;
}

/* The error of an op the validator refused, or of a target without a
 * name: kept out of emit so that its buffers cost emit nothing. */
static __attribute__((noinline)) int refuse(ebpfdsl_asm *a, const struct item *it, const char *why)
{
	char msg[EBPFDSL_ERRLEN - 64], w[160];
	if (!why) {
		ebpfdsl__validate(&it->op, a->cpu, msg, sizeof(msg));
		why = msg;
	}
	return set_error(a, "%s: %s", where(a, it, w, sizeof(w)), why);
}

int ebpfdsl_asm__emit(ebpfdsl_asm *a, const struct ebpfdsl_op *op)
{
	const struct ebpfdsl_isa_row *row;
	struct item *it;
	if (a->failed)
		return -1;
	if (a->finalized)
		return set_error(a, "emit after finalize");
	if (a->nitems == a->capitems) {
		size_t n = a->capitems ? a->capitems * 2 : 64;
		struct item *p = realloc(a->items, n * sizeof(*p));
		if (!p)
			return set_error(a, "out of memory");
		a->items = p;
		a->capitems = n;
	}
	it = &a->items[a->nitems];
	it->op = *op;
	it->label = -1;
	it->after = a->last_label;
	it->slot = a->slots;
	it->relax = RELAX_NONE;
	it->dest = SIZE_MAX;
	if (op->op < 0 || op->op >= EBPFDSL_OP_COUNT_)
		return set_error(a, "insn %zu: unknown mnemonic number %d", a->slots, op->op);
	row = ebpfdsl__row(op->op); /* inline, where ebpfdsl_isa_row is a call */
	if (ebpfdsl__validate_row(op, row, a->cpu, NULL, 0)) /* no text unless refused */
		return refuse(a, it, NULL);
	it->shape = row->shape;
	it->jumps = ebpfdsl__shapes[it->shape].followed;
	if (op->has & EBPFDSL_HAS_TARGET) {
		if (!op->target || !*op->target)
			return refuse(a, it, "target needs a non-empty label name");
		it->label = intern(a, op->target);
		if (it->label < 0)
			return set_error(a, "out of memory");
		if (a->labels[it->label].first_use == SIZE_MAX)
			a->labels[it->label].first_use = a->nitems;
		it->op.target = NULL; /* the caller's string may go away: it->label names it */
	}
	a->nitems++;
	a->slots += (size_t)ebpfdsl__shape_slots(it->shape);
	return 0;
}

static size_t item_slots(const struct item *it)
{
	switch (it->relax) {
	case RELAX_INVERTED: return 2;
	case RELAX_JSET: return 3;
	default: return (size_t)ebpfdsl__shape_slots(it->shape);
	}
}

/* pos[i] is the slot of item i; pos[nitems] the program length. */
static void layout(const ebpfdsl_asm *a, size_t *pos)
{
	size_t p = 0;
	for (size_t i = 0; i < a->nitems; i++) {
		pos[i] = p;
		p += item_slots(&a->items[i]);
	}
	pos[a->nitems] = p;
}

static int check_labels(ebpfdsl_asm *a)
{
	char w[160];
	for (size_t i = 0; i < a->nlabels; i++) {
		const struct label *l = &a->labels[i];
		if (l->item == SIZE_MAX && l->first_use != SIZE_MAX)
			return set_error(a, "%s: undefined label '%s'", where(a, &a->items[l->first_use], w, sizeof(w)),
					 a->names + l->name);
	}
	return 0;
}

/* For a jump, local call or ld_func without a label: 1 with the
 * relative offset it carries (off, or imm for calls and ld_func) in *rel;
 * 0 when the op goes nowhere (raw bytes that are no jump included). */
static int numeric_jump(const struct item *it, int64_t *rel)
{
	const struct ebpfdsl_op *op = &it->op;
	if (op->has & EBPFDSL_HAS_TARGET)
		return 0;
	switch (ebpfdsl__shapes[it->shape].jump) {
	case EBPFDSL__JUMP_OFF:
		*rel = op->off;
		return 1;
	case EBPFDSL__JUMP_IMM:
		*rel = op->imm;
		return 1;
	case EBPFDSL__JUMP_RAW: {
		/* raw bytes of a jump class: off is a distance (the 32-bit
		 * ja, gotol, keeps it in imm); calls and exit go nowhere */
		int cls = BPF_CLASS(op->code), bop = BPF_OP(op->code);
		if ((cls != BPF_JMP && cls != BPF_JMP32) || bop == BPF_CALL || bop == BPF_EXIT)
			return 0;
		*rel = cls == BPF_JMP32 && bop == BPF_JA ? op->imm : op->off;
		return 1;
	}
	default:
		return 0;
	}
}

/* The item that starts at emitted slot `slot` (nitems for the end of the
 * program), or SIZE_MAX when the slot is inside an instruction or out of
 * the program. Items are in slot order. */
static size_t item_at_slot(const ebpfdsl_asm *a, int64_t slot)
{
	size_t lo = 0, hi = a->nitems;
	if (slot < 0 || (uint64_t)slot > a->slots)
		return SIZE_MAX;
	if ((size_t)slot == a->slots)
		return a->nitems;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->items[mid].slot < (size_t)slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->nitems && a->items[lo].slot == (size_t)slot ? lo : SIZE_MAX;
}

/* Where each item goes: its label's item, or for a numeric offset the
 * item that started at the slot it counts to. Raw jumps keep their bytes
 * and are only checked, once laid out (check_unmoved). */
static void resolve(ebpfdsl_asm *a)
{
	for (size_t i = 0; i < a->nitems; i++) {
		struct item *it = &a->items[i];
		int64_t rel;
		if (it->label >= 0)
			it->dest = a->labels[it->label].item;
		else if (it->jumps && it->op.op != EBPFDSL_OP_RAW && numeric_jump(it, &rel))
			it->dest = item_at_slot(a, (int64_t)it->slot + 1 + rel);
	}
}

/* "label 'x'" or "insn 12" (slot as emitted): where a jump goes. */
static const char *dest_name(const ebpfdsl_asm *a, const struct item *it, char *buf, size_t len)
{
	if (it->label >= 0)
		snprintf(buf, len, "label '%s'", label_name(a, it->label));
	else if (it->dest < a->nitems)
		snprintf(buf, len, "insn %zu", a->items[it->dest].slot);
	else
		snprintf(buf, len, "the end of the program");
	return buf;
}

/* Grows jumps that do not reach until every one does. Growth only
 * lengthens the program, so this ends. */
static int relax(ebpfdsl_asm *a, size_t *pos)
{
	char w[160], d[160];
	if (a->slots <= INT16_MAX) {
		/* no distance in a program this short exceeds 16 bits, and
		 * nothing grows: every item stays where it was emitted */
		for (size_t i = 0; i < a->nitems; i++)
			pos[i] = a->items[i].slot;
		pos[a->nitems] = a->slots;
		return 0;
	}
	for (int changed = 1; changed;) {
		changed = 0;
		layout(a, pos);
		for (size_t i = 0; i < a->nitems; i++) {
			struct item *it = &a->items[i];
			int grow = ebpfdsl__shapes[it->shape].grow;
			int64_t dist;
			if (it->dest == SIZE_MAX || it->relax != RELAX_NONE || grow == EBPFDSL__GROW_NONE)
				continue;
			dist = (int64_t)pos[it->dest] - (int64_t)pos[i] - 1;
			if (dist >= INT16_MIN && dist <= INT16_MAX)
				continue;
			if (grow == EBPFDSL__GROW_NEVER) /* it has no 32-bit form */
				return set_error(a, "%s: may_goto to %s is %lld slots away, beyond its 16-bit range "
						 "-32768..32767", where(a, it, w, sizeof(w)), dest_name(a, it, d, sizeof(d)),
						 (long long)dist);
			if (a->no_relax || a->cpu < 4)
				return set_error(a,
						 "%s: jump to %s is %lld slots away, beyond the 16-bit range "
						 "-32768..32767, and %s",
						 where(a, it, w, sizeof(w)), dest_name(a, it, d, sizeof(d)), (long long)dist,
						 a->no_relax ? "relaxation into gotol is off" : "gotol needs cpu v4");
			it->relax = grow == EBPFDSL__GROW_GOTOL ? RELAX_GOTOL :
				    ebpfdsl__invert_jump(it->op.op) >= 0 ? RELAX_INVERTED : RELAX_JSET;
			changed = 1;
		}
	}
	return 0;
}

/* How far the place at emitted slot `slot` moved in the layout: the
 * growth of every item before it (a slot inside an item moves with it). */
static int64_t moved(const ebpfdsl_asm *a, const size_t *pos, int64_t slot)
{
	size_t lo = 0, hi = a->nitems;
	if (slot <= 0 || a->nitems == 0)
		return 0;
	if ((uint64_t)slot >= a->slots)
		return (int64_t)pos[a->nitems] - (int64_t)a->slots;
	/* the last item starting at or before slot */
	while (lo + 1 < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->items[mid].slot <= (size_t)slot)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)pos[lo] - (int64_t)a->items[lo].slot;
}

/* A numeric offset that could not be resolved (into the middle of an
 * lddw, out of the program, or a raw jump's bytes) keeps its value,
 * which is only right while no relaxed jump lies between it and where
 * it goes. */
static int check_unmoved(ebpfdsl_asm *a, const size_t *pos)
{
	char w[160];
	for (size_t i = 0; i < a->nitems; i++) {
		const struct item *it = &a->items[i];
		int64_t rel, to;
		if (!it->jumps || it->dest != SIZE_MAX || it->label >= 0 || !numeric_jump(it, &rel))
			continue;
		to = (int64_t)it->slot + 1 + rel;
		if (moved(a, pos, to) == (int64_t)pos[i] - (int64_t)it->slot)
			continue;
		return set_error(a,
				 "%s: offset %+lld goes to slot %lld as emitted, %s, and a jump relaxed into gotol "
				 "lies between, so the offset no longer means that place; use a label",
				 where(a, it, w, sizeof(w)), (long long)rel, (long long)to,
				 it->op.op == EBPFDSL_OP_RAW ? "from raw bytes, which are kept as given"
				 : to < 0 || (uint64_t)to > a->slots ? "outside the program"
								    : "inside an instruction");
	}
	return 0;
}

/* Writes item i (already laid out at pos[i]) into a->out. */
static void encode_item(ebpfdsl_asm *a, const struct item *it, const size_t *pos, size_t i)
{
	struct bpf_insn *out = a->out + pos[i];
	struct ebpfdsl_op op, gotol;
	int64_t to;

	if (it->dest == SIZE_MAX) {
		ebpfdsl__encode(&it->op, out);
		return;
	}
	op = it->op;
	to = (int64_t)pos[it->dest];
	memset(&gotol, 0, sizeof(gotol));
	gotol.op = EBPFDSL_OP_GOTOL;
	gotol.has = EBPFDSL_HAS_OFF;
	op.has &= ~EBPFDSL_HAS_TARGET;
	op.target = NULL;
	switch (it->relax) {
	case RELAX_GOTOL:
		gotol.off = to - (int64_t)pos[i] - 1;
		ebpfdsl__encode(&gotol, out);
		return;
	case RELAX_INVERTED:
		op.op = ebpfdsl__invert_jump(op.op);
		op.has |= EBPFDSL_HAS_OFF;
		op.off = 1;
		ebpfdsl__encode(&op, out);
		gotol.off = to - (int64_t)pos[i] - 2;
		ebpfdsl__encode(&gotol, out + 1);
		return;
	case RELAX_JSET: {
		struct ebpfdsl_op skip = { .op = EBPFDSL_OP_JA, .has = EBPFDSL_HAS_OFF, .off = 1 };
		op.has |= EBPFDSL_HAS_OFF;
		op.off = 1;
		ebpfdsl__encode(&op, out);
		ebpfdsl__encode(&skip, out + 1);
		gotol.off = to - (int64_t)pos[i] - 3;
		ebpfdsl__encode(&gotol, out + 2);
		return;
	}
	default:
		break;
	}
	if (ebpfdsl__shapes[it->shape].jump == EBPFDSL__JUMP_IMM) {
		op.has |= EBPFDSL_HAS_IMM;
		op.imm = to - (int64_t)pos[i] - 1;
	} else {
		op.has |= EBPFDSL_HAS_OFF;
		op.off = to - (int64_t)pos[i] - 1;
	}
	ebpfdsl__encode(&op, out);
}

int ebpfdsl_asm__finalize(ebpfdsl_asm *a)
{
	size_t *pos;
	if (a->failed)
		return -1;
	if (a->finalized)
		return 0;
	if (check_labels(a))
		return -1;
	pos = malloc((a->nitems + 1) * sizeof(*pos));
	if (!pos)
		return set_error(a, "out of memory");
	resolve(a);
	/* with nothing grown, every offset still means the place it did */
	if (relax(a, pos) || (pos[a->nitems] != a->slots && check_unmoved(a, pos))) {
		free(pos);
		return -1;
	}
	a->nout = pos[a->nitems];
	a->out = malloc((a->nout ? a->nout : 1) * sizeof(*a->out)); /* encode writes every slot */
	if (!a->out) {
		free(pos);
		return set_error(a, "out of memory");
	}
	for (size_t i = 0; i < a->nitems; i++)
		encode_item(a, &a->items[i], pos, i);
	/* labels now name final slots */
	for (size_t i = 0; i < a->nlabels; i++)
		if (a->labels[i].item != SIZE_MAX)
			a->labels[i].item = pos[a->labels[i].item];
	free(pos);
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
	*slot = a->labels[i].item;
	return a->labels[i].item == SIZE_MAX ? -ENOENT : 0;
}
