/* SPDX-License-Identifier: MIT */
/* A program's debug information: a FUNC for the program and for every
 * subprogram and callback (each call_local or ld_func target), and a line
 * for every instruction, as the kernel takes them with the program. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

struct ebpfdsl_prog_btf {
	ebpfdsl_btfw *w;
	struct bpf_func_info *funcs;
	char **names;
	uint32_t nfuncs;
	struct bpf_line_info *lines;
	uint32_t nlines, cap_lines;
	const void *btf;
	size_t btf_size;
	int failed;
	char err[EBPFDSL_ERRLEN];
};

/* Where a pseudo call or a function address goes, or -1. */
static int64_t func_target(const struct bpf_insn *in, size_t pc)
{
	if ((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
	    (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC))
		return (int64_t)pc + 1 + in->imm;
	return -1;
}

/* Slots where an instruction starts (the second half of an lddw does not). */
static unsigned char *starts_of(const struct bpf_insn *insns, size_t cnt)
{
	unsigned char *s = calloc(cnt + 1, 1);
	if (!s)
		return NULL;
	for (size_t pc = 0; pc < cnt; pc++) {
		s[pc] = 1;
		if (insns[pc].code == (BPF_LD | BPF_IMM | BPF_DW))
			pc++;
	}
	return s;
}

int ebpfdsl_prog_func_starts(const struct bpf_insn *insns, size_t cnt, uint32_t *out, size_t max)
{
	unsigned char *starts = starts_of(insns, cnt), *is_func;
	size_t n = 0;
	if (!starts)
		return -ENOMEM;
	is_func = calloc(cnt + 1, 1);
	if (!is_func) {
		free(starts);
		return -ENOMEM;
	}
	if (cnt)
		is_func[0] = 1;
	for (size_t pc = 0; pc < cnt; pc++) {
		int64_t to;
		if (!starts[pc])
			continue;
		/* a target out of the program or inside an lddw is the kernel's
		 * to refuse, with its own message */
		to = func_target(&insns[pc], pc);
		if (to > 0 && (size_t)to < cnt && starts[to])
			is_func[to] = 1;
	}
	for (size_t pc = 0; pc < cnt; pc++) {
		if (!is_func[pc])
			continue;
		if (out && n < max)
			out[n] = (uint32_t)pc;
		n++;
	}
	free(starts);
	free(is_func);
	return (int)n;
}

static int fail(struct ebpfdsl_prog_btf *p, const char *msg)
{
	if (!p->failed) {
		snprintf(p->err, sizeof(p->err), "%s", msg);
		p->failed = 1;
	}
	return -1;
}

/* The label at slot, if a C identifier can be made of it ('.' and '-'
 * become '_', a leading digit gets one before it); NULL when none. */
static char *func_name(const struct ebpfdsl_prog_btf_opts *o, uint32_t slot, const char *fallback)
{
	const char *label = NULL;
	size_t len;
	char *s;
	for (size_t i = 0; o && i < o->nlabels; i++)
		if (o->labels[i].slot == slot && o->labels[i].name && *o->labels[i].name) {
			label = o->labels[i].name;
			break;
		}
	if (!label)
		label = fallback;
	len = strlen(label);
	s = malloc(len + 2);
	if (!s)
		return NULL;
	{
		char *d = s;
		if (*label >= '0' && *label <= '9')
			*d++ = '_';
		for (const char *c = label; *c; c++) {
			int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_';
			*d++ = ok ? *c : '_';
		}
		*d = '\0';
	}
	return s;
}

static int add_line(struct ebpfdsl_prog_btf *p, uint32_t slot, const char *file, const char *text, uint32_t line,
		    uint32_t col)
{
	int64_t f = ebpfdsl_btfw__string(p->w, file), t = ebpfdsl_btfw__string(p->w, text);
	struct bpf_line_info *l;
	if (f < 0 || t < 0)
		return fail(p, ebpfdsl_btfw__error(p->w));
	if (p->nlines == p->cap_lines) {
		uint32_t cap = p->cap_lines ? p->cap_lines * 2 : 64;
		l = realloc(p->lines, cap * sizeof(*l));
		if (!l)
			return fail(p, "out of memory");
		p->lines = l;
		p->cap_lines = cap;
	}
	l = &p->lines[p->nlines++];
	l->insn_off = slot;
	l->file_name_off = (uint32_t)f;
	l->line_off = (uint32_t)t;
	/* the kernel keeps 22 bits of line and 10 of column */
	l->line_col = ((line > 0x3fffff ? 0x3fffff : line) << 10) | (col > 0x3ff ? 0x3ff : col);
	return 0;
}

/* The instruction's own text, as our printer gives it with the label it
 * goes to or the helper it calls. */
static void insn_text(const struct bpf_insn *insns, size_t cnt, size_t pc, const struct ebpfdsl_prog_btf_opts *o,
		      char *buf, size_t len)
{
	struct ebpfdsl_op op;
	const char *label = NULL;
	int64_t to;
	ebpfdsl_decode(insns, cnt, pc, &op);
	to = ebpfdsl_op_jump_target(&op, pc);
	for (size_t i = 0; to >= 0 && o && i < o->nlabels; i++)
		if ((int64_t)o->labels[i].slot == to) {
			label = o->labels[i].name;
			break;
		}
	ebpfdsl_op_print(buf, len, &op, ebpfdsl_op_annotation(&op, label));
}

static int build_lines(struct ebpfdsl_prog_btf *p, const struct bpf_insn *insns, size_t cnt,
		       const struct ebpfdsl_prog_btf_opts *o, const unsigned char *starts)
{
	const char *file = o && o->file && *o->file ? o->file : "ebpfdsl";
	const struct ebpfdsl_line *cur = NULL, *last = NULL;
	size_t k = 0, f = 0;
	char text[256];

	for (size_t pc = 0; pc < cnt; pc++) {
		int func_start = f < p->nfuncs && p->funcs[f].insn_off == pc;
		if (func_start)
			f++;
		if (!starts[pc] || !insns[pc].code) /* the kernel takes no line there */
			continue;
		while (o && k < o->nlines && o->lines[k].slot <= pc)
			cur = &o->lines[k++];
		if (!cur) {
			insn_text(insns, cnt, pc, o, text, sizeof(text));
			if (add_line(p, (uint32_t)pc, file, text, (uint32_t)pc, 0))
				return -1;
			continue;
		}
		/* one line for a run of instructions from one source line; every
		 * function starts with one, as the kernel insists */
		if (cur == last && !func_start)
			continue;
		if (add_line(p, (uint32_t)pc, cur->file && *cur->file ? cur->file : file, cur->text ? cur->text : "",
			     cur->line, cur->col))
			return -1;
		last = cur;
	}
	return 0;
}

ebpfdsl_prog_btf *ebpfdsl_prog_btf__new(const struct bpf_insn *insns, size_t cnt,
					const struct ebpfdsl_prog_btf_opts *opts)
{
	struct ebpfdsl_prog_btf_opts o = { .sz = sizeof(o) };
	struct ebpfdsl_prog_btf *p = calloc(1, sizeof(*p));
	unsigned char *starts = NULL;
	uint32_t *fstarts = NULL;
	int n, lng, vptr, main_proto, sub_proto;

	if (!p)
		return NULL;
	if (opts) {
		size_t n_ = opts->sz < sizeof(o) ? opts->sz : sizeof(o);
		memcpy(&o, opts, n_);
		o.sz = sizeof(o);
	}
	p->w = ebpfdsl_btfw__new();
	if (!p->w) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	n = ebpfdsl_prog_func_starts(insns, cnt, NULL, 0);
	starts = starts_of(insns, cnt);
	fstarts = n > 0 ? calloc((size_t)n, sizeof(*fstarts)) : NULL;
	p->funcs = n > 0 ? calloc((size_t)n, sizeof(*p->funcs)) : NULL;
	p->names = n > 0 ? calloc((size_t)n, sizeof(*p->names)) : NULL;
	if (n < 0 || !starts || (n > 0 && (!fstarts || !p->funcs || !p->names))) {
		fail(p, "out of memory");
		goto out;
	}
	if (n == 0) {
		fail(p, "an empty program has no functions");
		goto out;
	}
	ebpfdsl_prog_func_starts(insns, cnt, fstarts, (size_t)n);
	/* long f(void *ctx) for the program, long f(void) for the rest: static
	 * functions, whose arguments the verifier takes from the caller */
	lng = ebpfdsl_btfw__int(p->w, "long", 8, 1);
	vptr = ebpfdsl_btfw__ptr(p->w, 0);
	main_proto = ebpfdsl_btfw__func_proto(p->w, lng);
	ebpfdsl_btfw__param(p->w, "ctx", vptr);
	sub_proto = ebpfdsl_btfw__func_proto(p->w, lng);
	for (int i = 0; i < n; i++) {
		char fallback[32];
		int id;
		snprintf(fallback, sizeof(fallback), "sub_%u", fstarts[i]);
		p->names[i] = func_name(i ? &o : NULL, fstarts[i], i ? fallback : o.name && *o.name ? o.name : "main");
		if (!p->names[i]) {
			fail(p, "out of memory");
			goto out;
		}
		id = ebpfdsl_btfw__func(p->w, p->names[i], i ? sub_proto : main_proto, 0);
		p->funcs[i].insn_off = fstarts[i];
		p->funcs[i].type_id = id > 0 ? (uint32_t)id : 0;
		p->nfuncs++;
	}
	if (ebpfdsl_btfw__error(p->w)) {
		fail(p, ebpfdsl_btfw__error(p->w));
		goto out;
	}
	if (build_lines(p, insns, cnt, &o, starts))
		goto out;
	p->btf = ebpfdsl_btfw__bytes(p->w, &p->btf_size);
	if (!p->btf)
		fail(p, ebpfdsl_btfw__error(p->w));
out:
	free(starts);
	free(fstarts);
	return p;
}

void ebpfdsl_prog_btf__free(ebpfdsl_prog_btf *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; p->names && i < p->nfuncs; i++)
		free(p->names[i]);
	free(p->names);
	free(p->funcs);
	free(p->lines);
	ebpfdsl_btfw__free(p->w);
	free(p);
}

const char *ebpfdsl_prog_btf__error(const ebpfdsl_prog_btf *p)
{
	return p->failed ? p->err : NULL;
}

const void *ebpfdsl_prog_btf__btf(const ebpfdsl_prog_btf *p, size_t *size)
{
	if (size)
		*size = p->failed ? 0 : p->btf_size;
	return p->failed ? NULL : p->btf;
}

const struct bpf_func_info *ebpfdsl_prog_btf__func_info(const ebpfdsl_prog_btf *p, uint32_t *cnt)
{
	if (cnt)
		*cnt = p->failed ? 0 : p->nfuncs;
	return p->failed ? NULL : p->funcs;
}

const char *ebpfdsl_prog_btf__func_name(const ebpfdsl_prog_btf *p, uint32_t i)
{
	return p->failed || i >= p->nfuncs ? NULL : p->names[i];
}

const struct bpf_line_info *ebpfdsl_prog_btf__line_info(const ebpfdsl_prog_btf *p, uint32_t *cnt)
{
	if (cnt)
		*cnt = p->failed ? 0 : p->nlines;
	return p->failed ? NULL : p->lines;
}
