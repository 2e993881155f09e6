/* SPDX-License-Identifier: MIT */
/* A table of symbols sorted by address, answering "which function holds this
 * address" and "where is this name"; filled from kallsyms or ELF by csrc/kernel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

struct entry {
	uint64_t addr, end; /* end: addr + size, or (size unknown) the next symbol's address */
	uint64_t size;
	size_t name, module; /* offsets into the string arena; module 0: none */
	size_t order;        /* position of the add: ties keep it */
	char type;
};

struct ebpfdsl_symtab {
	struct entry *e;
	size_t n, cap;
	char *str; /* arena of NUL-terminated strings; offset 0 holds "" */
	size_t str_len, str_cap;
	size_t last_module; /* the module string added last, reused while it repeats */
	size_t *by_name;    /* a hash index of names, made by __finish */
	size_t name_slots;
	struct ebpfdsl_symtab_segment *seg;
	size_t nseg, segcap;
	int finished;
};

ebpfdsl_symtab *ebpfdsl_symtab__new(void)
{
	ebpfdsl_symtab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->str = malloc(64);
	if (!t->str) {
		free(t);
		return NULL;
	}
	t->str[0] = '\0';
	t->str_len = 1;
	t->str_cap = 64;
	return t;
}

void ebpfdsl_symtab__free(ebpfdsl_symtab *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->str);
	free(t->by_name);
	free(t->seg);
	free(t);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *q;
	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int intern(ebpfdsl_symtab *t, const char *s, size_t *at)
{
	size_t len = strlen(s) + 1;
	if (grow((void **)&t->str, &t->str_cap, t->str_len + len, 1))
		return -ENOMEM;
	memcpy(t->str + t->str_len, s, len);
	*at = t->str_len;
	t->str_len += len;
	return 0;
}

int ebpfdsl_symtab__add(ebpfdsl_symtab *t, uint64_t addr, uint64_t size, const char *name, const char *module,
			char type)
{
	struct entry *e;
	if (!t || !name || t->finished)
		return -EINVAL;
	if (grow((void **)&t->e, &t->cap, t->n + 1, sizeof(*t->e)))
		return -ENOMEM;
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	e->size = size;
	e->type = type;
	e->order = t->n;
	if (intern(t, name, &e->name))
		return -ENOMEM;
	if (module && *module) {
		if (!t->last_module || strcmp(t->str + t->last_module, module) != 0) {
			if (intern(t, module, &t->last_module))
				return -ENOMEM;
		}
		e->module = t->last_module;
	}
	t->n++;
	return 0;
}

int ebpfdsl_symtab__add_segment(ebpfdsl_symtab *t, const struct ebpfdsl_symtab_segment *s)
{
	if (!t || !s || t->finished)
		return -EINVAL;
	if (grow((void **)&t->seg, &t->segcap, t->nseg + 1, sizeof(*t->seg)))
		return -ENOMEM;
	t->seg[t->nseg++] = *s;
	return 0;
}

/* Which of several symbols at one address names it: a global before a weak
 * one before a local one (kallsyms' and nm's letters), known sizes before
 * unknown ones, then the order they came in. */
static int rank(char type)
{
	if (type >= 'A' && type <= 'Z' && type != 'W' && type != 'V')
		return 0;
	if (type == 'W' || type == 'V' || type == 'w' || type == 'v')
		return 1;
	return 2;
}

static int by_addr(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (rank(a->type) != rank(b->type))
		return rank(a->type) - rank(b->type);
	if ((a->size == 0) != (b->size == 0))
		return a->size == 0 ? 1 : -1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* FNV-1a: names are short, and the table only needs them spread. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

/* An open-addressing index of names: slots hold entry index + 1, 0 empty;
 * twice as many slots as symbols, a power of two. */
static int index_names(ebpfdsl_symtab *t)
{
	size_t cap = 16;
	while (cap < 2 * t->n)
		cap *= 2;
	t->by_name = calloc(cap, sizeof(*t->by_name));
	if (!t->by_name)
		return -ENOMEM;
	t->name_slots = cap;
	for (size_t i = 0; i < t->n; i++) {
		size_t at = (size_t)name_hash(t->str + t->e[i].name) & (cap - 1);
		while (t->by_name[at])
			at = (at + 1) & (cap - 1);
		t->by_name[at] = i + 1;
	}
	return 0;
}

int ebpfdsl_symtab__finish(ebpfdsl_symtab *t)
{
	size_t out = 0;
	if (!t || t->finished)
		return -EINVAL;
	if (t->n)
		qsort(t->e, t->n, sizeof(*t->e), by_addr);
	/* the same symbol twice (.symtab and .dynsym) is one */
	for (size_t i = 0; i < t->n; i++) {
		if (out && t->e[out - 1].addr == t->e[i].addr &&
		    strcmp(t->str + t->e[out - 1].name, t->str + t->e[i].name) == 0 &&
		    t->e[out - 1].module == t->e[i].module)
			continue;
		t->e[out++] = t->e[i];
	}
	t->n = out;
	/* Sizes: kallsyms gives none, and there a symbol runs to the next
	 * address that has one (the last without end), as bcc and perf take
	 * them. An ELF file (a table with segments) gives sizes, and one of
	 * size 0 (_init, crt's helpers, some assembly) holds no address: bcc,
	 * and so bpftrace, leaves such frames unnamed. */
	for (size_t i = 0, j = 0; i < t->n; i++) {
		struct entry *e = &t->e[i];
		if (e->size) {
			e->end = e->addr + e->size < e->addr ? UINT64_MAX : e->addr + e->size;
			continue;
		}
		if (t->nseg) {
			e->end = e->addr;
			continue;
		}
		if (j <= i)
			j = i + 1;
		while (j < t->n && t->e[j].addr == e->addr)
			j++;
		e->end = j < t->n ? t->e[j].addr : UINT64_MAX;
	}
	if (index_names(t))
		return -ENOMEM;
	t->finished = 1;
	return 0;
}

size_t ebpfdsl_symtab__count(const ebpfdsl_symtab *t)
{
	return t ? t->n : 0;
}

static void fill(const ebpfdsl_symtab *t, const struct entry *e, struct ebpfdsl_sym *out)
{
	out->addr = e->addr;
	out->size = e->size;
	out->end = e->end;
	out->name = t->str + e->name;
	out->module = e->module ? t->str + e->module : NULL;
	out->type = e->type;
}

int ebpfdsl_symtab__at(const ebpfdsl_symtab *t, size_t i, struct ebpfdsl_sym *out)
{
	if (!t || !t->finished || i >= t->n)
		return -ENOENT;
	fill(t, &t->e[i], out);
	return 0;
}

int ebpfdsl_symtab__resolve(const ebpfdsl_symtab *t, uint64_t addr, struct ebpfdsl_sym *out, uint64_t *offset)
{
	size_t lo = 0, hi;
	uint64_t limit;
	if (!t || !t->finished)
		return -EINVAL;
	hi = t->n;
	while (lo < hi) { /* the first symbol above addr */
		size_t mid = lo + (hi - lo) / 2;
		if (t->e[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	/* Back from the last symbol at or below addr: the first one (best ranked
	 * at its address) that holds addr. A symbol nested in a larger one may
	 * end before addr; stop once symbols end before the first candidate
	 * starts, as none further back can reach past it (bcc's rule). */
	limit = t->e[lo - 1].addr;
	for (size_t i = lo; i-- > 0;) {
		const struct entry *e = &t->e[i];
		size_t first = i;
		while (first > 0 && t->e[first - 1].addr == e->addr)
			first--;
		for (size_t k = first; k <= i; k++) {
			if (addr < t->e[k].end) {
				fill(t, &t->e[k], out);
				if (offset)
					*offset = addr - t->e[k].addr;
				return 0;
			}
		}
		for (size_t k = first; k <= i; k++)
			if (t->e[k].end >= limit)
				goto next;
		break;
next:
		i = first;
	}
	return -ENOENT;
}

int ebpfdsl_symtab__find(const ebpfdsl_symtab *t, const char *name, struct ebpfdsl_sym *out)
{
	const struct entry *best = NULL;
	size_t at;
	if (!t || !t->finished || !name)
		return -EINVAL;
	/* of several symbols with the name: the best ranked, then the lowest */
	at = (size_t)name_hash(name) & (t->name_slots - 1);
	for (; t->by_name[at]; at = (at + 1) & (t->name_slots - 1)) {
		const struct entry *e = &t->e[t->by_name[at] - 1];
		if (strcmp(t->str + e->name, name) != 0)
			continue;
		if (!best || rank(e->type) < rank(best->type) ||
		    (rank(e->type) == rank(best->type) && e->addr < best->addr))
			best = e;
	}
	if (!best)
		return -ENOENT;
	fill(t, best, out);
	return 0;
}

size_t ebpfdsl_symtab__segments(const ebpfdsl_symtab *t, const struct ebpfdsl_symtab_segment **segs)
{
	if (segs)
		*segs = t ? t->seg : NULL;
	return t ? t->nseg : 0;
}

int ebpfdsl_symtab__file_addr(const ebpfdsl_symtab *t, uint64_t file_offset, uint64_t *addr)
{
	if (!t)
		return -EINVAL;
	for (size_t i = 0; i < t->nseg; i++) {
		const struct ebpfdsl_symtab_segment *s = &t->seg[i];
		if (file_offset >= s->offset && file_offset - s->offset < s->filesz) {
			*addr = file_offset - s->offset + s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}
