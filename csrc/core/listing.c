/* SPDX-License-Identifier: MIT */
/* A program's listing: its bytes decoded once, a label at every place a jump
 * lands (the caller's names, else made up), and dump's text. Pure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

/* Room for "L<slot>_<k>": 20 digits each at most, and the terminator. */
#define MADE_UP_LEN 44

struct ebpfdsl_listing {
	const struct bpf_insn *insns;
	size_t cnt;            /* slots */
	size_t n;              /* instructions */
	struct ebpfdsl_op *ops;
	size_t *slot_of;       /* slot_of[k]: where ops[k] starts */
	unsigned char *start;  /* start[pc]: 1 where an instruction starts, and at cnt */
	const char **at;       /* at[pc]: the label shown there, or NULL */
	char *made_up;         /* the names made up, MADE_UP_LEN bytes each */
};

void ebpfdsl_listing__free(ebpfdsl_listing *l)
{
	if (!l)
		return;
	free(l->ops);
	free(l->slot_of);
	free(l->start);
	free(l->at);
	free(l->made_up);
	free(l);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether name is one of the caller's, in the sorted list of them. */
static int taken(const char *const *names, size_t n, const char *name)
{
	return n && bsearch(&name, names, n, sizeof(*names), by_name) != NULL;
}

/* The slot op at pc goes to, when a label may stand there: -1 otherwise
 * (a jump into the second half of an lddw keeps its numeric offset). */
static int64_t landing(const ebpfdsl_listing *l, size_t k)
{
	int64_t to = ebpfdsl_op_jump_target(&l->ops[k], l->slot_of[k]);
	return to >= 0 && (uint64_t)to <= l->cnt && l->start[to] ? to : -1;
}

/* Labels: the caller's name for a slot a jump lands on, else L<slot>, or
 * L<slot>_<k> when the caller uses that name elsewhere (a name stands for
 * one place); then the caller's labels nothing jumps to. */
static int name_places(ebpfdsl_listing *l, const struct ebpfdsl_label *labels, size_t nlabels)
{
	const char **given = calloc(l->cnt + 1, sizeof(*given));
	const char **names = nlabels ? malloc(nlabels * sizeof(*names)) : NULL;
	size_t nnames = 0, nmade = 0, used = 0;
	int err = -ENOMEM;

	if (!given || (nlabels && !names))
		goto out;
	for (size_t i = nlabels; i-- > 0;) { /* backwards: the first one given for a slot wins */
		if (!labels[i].name)
			continue;
		names[nnames++] = labels[i].name;
		if (labels[i].slot <= l->cnt && l->start[labels[i].slot])
			given[labels[i].slot] = labels[i].name;
	}
	if (nnames)
		qsort(names, nnames, sizeof(*names), by_name);
	for (size_t k = 0; k < l->n; k++) {
		int64_t to = landing(l, k);
		if (to >= 0 && !given[to])
			nmade++;
	}
	if (nmade && !(l->made_up = malloc(nmade * MADE_UP_LEN)))
		goto out;
	for (size_t k = 0; k < l->n; k++) {
		int64_t to = landing(l, k);
		char *name;
		if (to < 0 || l->at[to])
			continue;
		if (given[to]) {
			l->at[to] = given[to];
			continue;
		}
		name = l->made_up + used++ * MADE_UP_LEN;
		snprintf(name, MADE_UP_LEN, "L%zu", (size_t)to);
		for (size_t j = 1; taken(names, nnames, name); j++)
			snprintf(name, MADE_UP_LEN, "L%zu_%zu", (size_t)to, j);
		l->at[to] = name;
	}
	for (size_t pc = 0; pc <= l->cnt; pc++)
		if (!l->at[pc])
			l->at[pc] = given[pc];
	err = 0;
out:
	free(given);
	free(names);
	return err;
}

ebpfdsl_listing *ebpfdsl_listing__new(const struct bpf_insn *insns, size_t cnt, const struct ebpfdsl_label *labels,
				      size_t nlabels)
{
	ebpfdsl_listing *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->insns = insns;
	l->cnt = cnt;
	l->ops = malloc((cnt ? cnt : 1) * sizeof(*l->ops));
	l->slot_of = malloc((cnt ? cnt : 1) * sizeof(*l->slot_of));
	l->start = calloc(cnt + 1, 1);
	l->at = calloc(cnt + 1, sizeof(*l->at));
	if (!l->ops || !l->slot_of || !l->start || !l->at)
		goto fail;
	for (size_t pc = 0; pc < cnt;) {
		l->start[pc] = 1;
		l->slot_of[l->n] = pc;
		pc += (size_t)ebpfdsl_decode(insns, cnt, pc, &l->ops[l->n]);
		l->n++;
	}
	l->start[cnt] = 1;
	if (name_places(l, labels, nlabels) == 0)
		return l;
fail:
	ebpfdsl_listing__free(l);
	errno = ENOMEM;
	return NULL;
}

int ebpfdsl_listing__op(const ebpfdsl_listing *l, size_t i, const struct ebpfdsl_op **op, size_t *slot)
{
	if (i >= l->n)
		return -ENOENT;
	*op = &l->ops[i];
	*slot = l->slot_of[i];
	return 0;
}

const char *ebpfdsl_listing__label(const ebpfdsl_listing *l, int64_t slot)
{
	return slot >= 0 && (uint64_t)slot <= l->cnt ? l->at[slot] : NULL;
}

/* Appends n bytes of s at *pos, as much as fits before out's last byte
 * (the terminator's, written once at the end); *pos counts them all. */
static void put(char *out, size_t len, size_t *pos, const char *s, size_t n)
{
	if (*pos + 1 < len)
		memcpy(out + *pos, s, *pos + n < len - 1 ? n : len - 1 - *pos);
	*pos += n;
}

static void puts_(char *out, size_t len, size_t *pos, const char *s)
{
	put(out, len, pos, s, strlen(s));
}

int ebpfdsl_listing__text(const ebpfdsl_listing *l, const struct ebpfdsl_listing_opts *opts, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int show_bytes = opts && opts->sz >= offsetof(struct ebpfdsl_listing_opts, bytes) + sizeof(opts->bytes) &&
			 opts->bytes;
	size_t pos = 0;
	char line[256];

	if (!out)
		len = 0;
	for (size_t k = 0; k <= l->n; k++) {
		size_t pc = k < l->n ? l->slot_of[k] : l->cnt;
		const struct ebpfdsl_op *op = &l->ops[k];
		const char *annot;
		int n;
		if (l->at[pc]) {
			puts_(out, len, &pos, l->at[pc]);
			put(out, len, &pos, ":\n", 2);
		}
		if (k == l->n)
			break;
		n = snprintf(line, sizeof(line), "%5zu: ", pc);
		put(out, len, &pos, line, (size_t)n);
		if (show_bytes) {
			const unsigned char *b = (const unsigned char *)(l->insns + pc);
			char *p = line;
			for (int i = 0; i < ebpfdsl_op_slots(op) * 8; i++) {
				*p++ = hex[b[i] >> 4];
				*p++ = hex[b[i] & 15];
				*p++ = ' ';
			}
			*p++ = '\t';
			put(out, len, &pos, line, (size_t)(p - line));
		}
		annot = ebpfdsl_op_annotation(op, ebpfdsl_listing__label(l, ebpfdsl_op_jump_target(op, pc)));
		/* the annotation is added apart: a label name has any length */
		ebpfdsl_op_print(line, sizeof(line), op, NULL);
		puts_(out, len, &pos, line);
		if (annot) {
			put(out, len, &pos, " <", 2);
			puts_(out, len, &pos, annot);
			put(out, len, &pos, ">", 1);
		}
		put(out, len, &pos, "\n", 1);
	}
	if (len)
		out[pos < len ? pos : len - 1] = '\0';
	return (int)pos;
}

int ebpfdsl_dump(const struct bpf_insn *insns, size_t cnt, const struct ebpfdsl_label *labels, size_t nlabels,
		 const struct ebpfdsl_listing_opts *opts, char *out, size_t len)
{
	ebpfdsl_listing *l = ebpfdsl_listing__new(insns, cnt, labels, nlabels);
	int n;
	if (!l) {
		if (out && len)
			out[0] = '\0';
		return -ENOMEM;
	}
	n = ebpfdsl_listing__text(l, opts, out, len);
	ebpfdsl_listing__free(l);
	return n;
}
