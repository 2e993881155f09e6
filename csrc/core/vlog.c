/* SPDX-License-Identifier: MIT */
/* The verifier's log, explained in the program's own terms: the instruction
 * it stopped at, printed by our disassembler and placed after the user's
 * nearest label, followed by the verifier's reason. Pure text work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define MAX_REASON_LINES 3

struct line {
	const char *s;
	size_t n;
};

/* "12: (79) r2 = *(u64 *)(r1 +8)": the verifier printing the instruction
 * it is about to check. */
static long insn_line(const char *s, size_t n)
{
	size_t i = 0;
	long idx = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && idx < 100000000) {
		idx = idx * 10 + (s[i] - '0');
		i++;
	}
	if (i == 0 || i + 6 > n || s[i] != ':' || s[i + 1] != ' ' || s[i + 2] != '(')
		return -1;
	for (int k = 3; k < 5; k++) {
		char c = s[i + (size_t)k];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	return s[i + 5] == ')' ? idx : -1;
}

/* Lines that are not the reason: the closing statistics, register state
 * dumps ("12: R1=ctx() ..."), and blank lines. */
static int noise(const char *s, size_t n)
{
	static const char *const prefixes[] = { "processed ", "verification time", "stack depth", "func#", "; ",
						"from ", "last_idx", "regs=", "parent ", "mark_precise", NULL };
	size_t i = 0;
	if (n == 0)
		return 1;
	for (int k = 0; prefixes[k]; k++)
		if (n >= strlen(prefixes[k]) && strncmp(s, prefixes[k], strlen(prefixes[k])) == 0)
			return 1;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > 0 && i + 2 < n && s[i] == ':' && s[i + 1] == ' ' && (s[i + 2] == 'R' || s[i + 2] == 'f');
}

/* "insn 5" or "insn 5 to 7" inside a reason from the checks that run
 * before instructions are walked (unreachable code, bad jumps). */
static long insn_in_reason(const char *s, size_t n)
{
	for (size_t i = 0; i + 5 < n; i++) {
		long idx = 0;
		size_t j;
		if (strncmp(s + i, "insn ", 5) != 0)
			continue;
		for (j = i + 5; j < n && s[j] >= '0' && s[j] <= '9' && idx < 100000000; j++)
			idx = idx * 10 + (s[j] - '0');
		if (j > i + 5)
			return idx;
	}
	return -1;
}

static const char *label_at_or_before(const struct ebpfdsl_label *labels, size_t nlabels, size_t pc,
				      size_t *slot)
{
	const char *best = NULL;
	for (size_t i = 0; i < nlabels; i++) {
		if (labels[i].name && labels[i].slot <= pc && (!best || labels[i].slot > *slot)) {
			best = labels[i].name;
			*slot = labels[i].slot;
		}
	}
	return best;
}

/* The caller's labels by slot, looked up once per line: an array of
 * cnt + 1 names (the first label given for a slot wins), or, when memory
 * runs out, a search of the list each time. */
struct names {
	const char **at;
	size_t cnt;
	const struct ebpfdsl_label *labels;
	size_t nlabels;
};

static void names_init(struct names *nm, const struct ebpfdsl_label *labels, size_t nlabels, size_t cnt)
{
	nm->labels = labels;
	nm->nlabels = nlabels;
	nm->cnt = cnt;
	nm->at = nlabels ? calloc(cnt + 1, sizeof(*nm->at)) : NULL;
	for (size_t i = nlabels; nm->at && i-- > 0;) /* backwards: the first one wins */
		if (labels[i].name && labels[i].slot <= cnt)
			nm->at[labels[i].slot] = labels[i].name;
}

static const char *name_at(const struct names *nm, int64_t slot)
{
	if (slot < 0 || (uint64_t)slot > nm->cnt)
		return NULL;
	if (nm->at)
		return nm->at[slot];
	for (size_t i = 0; i < nm->nlabels; i++)
		if (nm->labels[i].name && nm->labels[i].slot == (size_t)slot)
			return nm->labels[i].name;
	return NULL;
}

/* The instruction at idx in our syntax, its jump target's label or its
 * helper's name in <>. */
static void describe(char *text, size_t len, const struct bpf_insn *insns, size_t cnt, size_t idx,
		     const struct names *nm)
{
	struct ebpfdsl_op op;
	ebpfdsl_decode(insns, cnt, idx, &op);
	ebpfdsl_op_print(text, len, &op, ebpfdsl_op_annotation(&op, name_at(nm, ebpfdsl_op_jump_target(&op, idx))));
}

int ebpfdsl_vlog_explain(const char *log, const struct bpf_insn *insns, size_t cnt,
			 const struct ebpfdsl_label *labels, size_t nlabels, char *out, size_t len)
{
	struct line reason[MAX_REASON_LINES];
	const char *p, *after = NULL;
	long idx = -1;
	int nreason = 0;
	size_t pos = 0;

	if (len)
		out[0] = '\0';
	if (!log)
		log = "";
	/* the last instruction line, and where the reason starts */
	for (p = log; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		long i = insn_line(p, n);
		if (i >= 0) {
			idx = i;
			after = p + n;
		}
		p += n + (e ? 1 : 0);
	}
	/* the last few lines worth quoting, after that instruction */
	for (p = after ? after : log; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\r'))
			n--;
		if (!noise(p, n)) {
			if (nreason == MAX_REASON_LINES) {
				memmove(reason, reason + 1, sizeof(reason[0]) * (MAX_REASON_LINES - 1));
				nreason--;
			}
			reason[nreason].s = p;
			reason[nreason++].n = n;
		}
		p = e ? e + 1 : p + strlen(p);
	}
	if (idx < 0)
		for (int i = nreason - 1; i >= 0 && idx < 0; i--)
			idx = insn_in_reason(reason[i].s, reason[i].n);

	if (idx >= 0 && insns && (size_t)idx < cnt) {
		/* one line to describe: the list is searched, not indexed */
		struct names nm = { NULL, cnt, labels, nlabels };
		char text[160];
		size_t slot = 0;
		const char *label = label_at_or_before(labels, nlabels, (size_t)idx, &slot);
		describe(text, sizeof(text), insns, cnt, (size_t)idx, &nm);
		ebpfdsl__appendf(out, len, &pos, "insn %ld", idx);
		if (label)
			ebpfdsl__appendf(out, len, &pos, " (%s label '%s')", slot == (size_t)idx ? "at" : "after",
					 label);
		ebpfdsl__appendf(out, len, &pos, ": %s", text);
	} else if (idx >= 0) {
		ebpfdsl__appendf(out, len, &pos, "insn %ld", idx);
	}
	for (int i = 0; i < nreason; i++)
		ebpfdsl__appendf(out, len, &pos, "%s%.*s", pos ? (i ? "; " : ": ") : (i ? "; " : ""),
				 (int)reason[i].n, reason[i].s);
	if (nreason == 0)
		ebpfdsl__appendf(out, len, &pos, "%s(the verifier gave no reason)", pos ? ": " : "");
	if (len && pos >= len)
		out[len - 1] = '\0';
	return (int)idx;
}

/* The kernel's instruction text runs up to its state comment: "; R0=0" */
static size_t kernel_text_end(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == ' ' && s[i + 1] == ';')
			return i;
	return n;
}

int ebpfdsl_vlog_annotate(const char *log, const struct bpf_insn *insns, size_t cnt,
			  const struct ebpfdsl_label *labels, size_t nlabels, char *out, size_t len)
{
	size_t pos = 0;
	long prev = -1;
	struct names nm;

	if (len)
		out[0] = '\0';
	names_init(&nm, labels, nlabels, insns ? cnt : 0);
	for (const char *p = log ? log : ""; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		long idx = insn_line(p, n);
		if (idx >= 0 && insns && (size_t)idx < cnt) {
			char text[160];
			const char *label = name_at(&nm, idx);
			size_t head = (size_t)(strchr(p, ')') - p) + 1; /* "12: (79)" */
			size_t end = kernel_text_end(p, n);
			describe(text, sizeof(text), insns, cnt, (size_t)idx, &nm);
			if (label && idx != prev)
				ebpfdsl__appendf(out, len, &pos, "%s:\n", label);
			/* state comments line up as the kernel's do */
			ebpfdsl__appendf(out, len, &pos, "%.*s %-*s%.*s\n", (int)head, p, end < n ? 29 : 0, text,
					 (int)(n - end), p + end);
			prev = idx;
		} else {
			ebpfdsl__appendf(out, len, &pos, "%.*s\n", (int)n, p);
		}
		p = e ? e + 1 : p + n;
	}
	free(nm.at);
	if (len && pos >= len)
		out[len - 1] = '\0';
	return (int)pos;
}
