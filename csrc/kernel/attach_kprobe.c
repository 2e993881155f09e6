/* SPDX-License-Identifier: MIT */
/* kprobes: the kprobe PMU, else tracefs kprobe_events, else a message
 * that the kernel lacks kprobes; kprobe_multi links, else one each. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include "perf.h"
#include "tracefs.h"


/* The kprobe PMU as sysfs describes it, read once per attach (however
 * many functions a kprobe_multi fallback probes): its type, or -errno
 * when there is none; the config bit of its retprobe format, or -errno. */
struct kprobe_pmu {
	int type;
	int retbit;
};

static void kprobe_pmu_read(struct kprobe_pmu *p, int retprobe)
{
	p->type = ebpfdsl__pmu_type("kprobe");
	p->retbit = p->type >= 0 && retprobe ? ebpfdsl__pmu_retprobe_bit("kprobe") : -ENOENT;
}

/* "'f'" or "'f'+off", as messages name a probe point. */
static void probe_point(char *buf, size_t len, const char *func, uint64_t offset)
{
	if (offset)
		snprintf(buf, len, "'%s'+%llu", func, (unsigned long long)offset);
	else
		snprintf(buf, len, "'%s'", func);
}

/* Why the kernel refused a kprobe, from the errno that the kprobe PMU
 * and kprobe_events both give (register_kprobe's); NULL when unknown. */
static const char *kprobe_refusal(int e, const struct ebpfdsl_kprobe_opts *o)
{
	switch (e) {
	case ENOENT:
		return "no such kernel function";
	case EILSEQ:
		return "the offset is not at an instruction boundary of the function, or is past its end";
	case EINVAL:
		return o->retprobe && o->offset ? "a kretprobe goes on a function's entry only (offset 0)"
						 : "kprobes may not probe this function (it is on the kprobe blacklist, "
						   "or not kernel text)";
	default:
		return NULL;
	}
}

static int kprobe_pmu(struct ebpfdsl_link *l, int prog_fd, const char *func, const struct ebpfdsl_kprobe_opts *o,
		      const struct kprobe_pmu *pmu, char *err, size_t errlen)
{
	const char *kind = o->retprobe ? "kretprobe" : "kprobe";
	struct perf_event_attr attr;
	char what[300], at[280];
	int pfd;

	probe_point(at, sizeof(at), func, o->offset);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (unsigned)pmu->type;
	if (o->retprobe) {
		if (pmu->retbit < 0)
			return ebpfdsl__err(err, errlen, pmu->retbit, "kretprobe on %s: the kprobe PMU has no retprobe format",
					at);
		attr.config |= 1ULL << pmu->retbit;
	}
	attr.config1 = (uint64_t)(unsigned long)func; /* kprobe_func */
	attr.config2 = o->offset;                      /* probe_offset */
	pfd = ebpfdsl__perf_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		int e = errno;
		const char *why = kprobe_refusal(e, o);
		if (why)
			return ebpfdsl__err(err, errlen, e, "%s on %s: the kprobe PMU refused it: %s", kind, at, why);
		return ebpfdsl__err(err, errlen, e, "%s on %s: perf_event_open on the kprobe PMU", kind, at);
	}
	snprintf(what, sizeof(what), "%s on %s", kind, at);
	return ebpfdsl__perf_attach(l, prog_fd, pfd, o->cookie, what, err, errlen);
}

/* Adds one kprobe part to l; the message names what was tried. */
static int kprobe_one(struct ebpfdsl_link *l, int prog_fd, const char *func, const struct ebpfdsl_kprobe_opts *o,
		      const struct kprobe_pmu *pmu, char *err, size_t errlen)
{
	const char *kind = o->retprobe ? "kretprobe" : "kprobe";
	const char *dir;
	char path[300], name[64], def[512];

	if (pmu->type >= 0)
		return kprobe_pmu(l, prog_fd, func, o, pmu, err, errlen);
	/* no PMU (before 4.17): the legacy tracefs interface */
	dir = ebpfdsl__tracefs_dir();
	snprintf(path, sizeof(path), "%s/kprobe_events", dir ? dir : "/sys/kernel/tracing");
	if (!dir || access(path, W_OK) < 0) {
		int e = dir ? errno : ENOENT;
		char why[128];
		snprintf(why, sizeof(why), "%s", dir ? ebpfdsl_strerror(e) : "tracefs is not mounted");
		ebpfdsl__msg(err, errlen,
			 "%s on '%s': the kernel lacks kprobe support (CONFIG_KPROBES): tried the kprobe PMU "
			 "(/sys/bus/event_source/devices/kprobe/type: %s) and tracefs (%s: %s)",
			 kind, func, ebpfdsl_strerror(-pmu->type), path, why);
		return -EOPNOTSUPP;
	}
	ebpfdsl__tracefs_event_name(name, sizeof(name));
	if (o->offset)
		snprintf(def, sizeof(def), "%c:kprobes/%s %s+%llu\n", o->retprobe ? 'r' : 'p', name, func,
			 (unsigned long long)o->offset);
	else
		snprintf(def, sizeof(def), "%c:kprobes/%s %s\n", o->retprobe ? 'r' : 'p', name, func);
	{
		char inner[384], at[280];
		int e = ebpfdsl__perf_attach_probe(l, prog_fd, "kprobe_events", "kprobes", name, def, -1, o->cookie, inner,
					     sizeof(inner));
		const char *why = e < 0 ? kprobe_refusal(-e, o) : NULL;
		probe_point(at, sizeof(at), func, o->offset);
		if (why)
			ebpfdsl__msg(err, errlen, "%s on %s through tracefs kprobe_events: %s (%s)", kind, at, why, inner);
		else if (e < 0)
			ebpfdsl__msg(err, errlen, "%s on %s through tracefs kprobe_events: %s", kind, at, inner);
		return e;
	}
}

int ebpfdsl_attach_kprobe(int prog_fd, const char *func, const struct ebpfdsl_kprobe_opts *opts,
			  ebpfdsl_link **out, char *err, size_t errlen)
{
	struct ebpfdsl_kprobe_opts o = { .sz = sizeof(o) };
	struct ebpfdsl_link *l;
	struct kprobe_pmu pmu;
	int e;

	EBPFDSL_OPTS_COPY(o, opts);
	if (!func || !*func)
		return ebpfdsl__err(err, errlen, EINVAL, "kprobe: a kernel function name is needed");
	l = ebpfdsl__perf_link_new(EBPFDSL_LINK_KPROBE, o.offset ? "%s%s+%llu" : "%s%s", o.retprobe ? "return of " : "", func,
		     (unsigned long long)o.offset);
	if (!l)
		return ebpfdsl__err(err, errlen, ENOMEM, "kprobe on '%s'", func);
	kprobe_pmu_read(&pmu, o.retprobe);
	e = kprobe_one(l, prog_fd, func, &o, &pmu, err, errlen);
	if (e < 0) {
		ebpfdsl_link__free(l);
		return e;
	}
	*out = l;
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *ns, const char *s, size_t len)
{
	char *c;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	c = strndup(s, len);
	if (!c)
		return -ENOMEM;
	ns->v[ns->n++] = c;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kallsyms repeats static names: sort and keep one of each */
static void names_unique(struct names *ns)
{
	size_t j = 0;
	if (ns->n < 2)
		return;
	qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
	for (size_t i = 1; i < ns->n; i++) {
		if (strcmp(ns->v[i], ns->v[j]) == 0)
			free(ns->v[i]);
		else
			ns->v[++j] = ns->v[i];
	}
	ns->n = j + 1;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

/* Kernel functions matching a glob: the traceable ones when tracefs
 * lets us read them, else every text symbol in /proc/kallsyms. */
static int match_functions(const char *pattern, struct names *ns, char *src, size_t srclen)
{
	const char *dir = ebpfdsl__tracefs_dir();
	char path[300], line[512];
	FILE *f = NULL;
	int kallsyms = 0;

	if (dir) {
		snprintf(path, sizeof(path), "%s/available_filter_functions", dir);
		f = fopen(path, "re");
	}
	if (!f) {
		snprintf(path, sizeof(path), "/proc/kallsyms");
		f = fopen(path, "re");
		kallsyms = 1;
	}
	if (!f)
		return -errno;
	snprintf(src, srclen, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		char *name = line, *end;
		if (kallsyms) {
			char type;
			char *sp = strchr(line, ' ');
			if (!sp || !sp[1] || sp[2] != ' ')
				continue;
			type = sp[1];
			if (type != 't' && type != 'T')
				continue;
			name = sp + 3;
		}
		end = name + strcspn(name, " \t\n[");
		*end = '\0';
		if (*name && fnmatch(pattern, name, 0) == 0 && names_add(ns, name, (size_t)(end - name))) {
			fclose(f);
			return -ENOMEM;
		}
	}
	fclose(f);
	names_unique(ns);
	return 0;
}

int ebpfdsl_attach_kprobe_multi(int prog_fd, const struct ebpfdsl_kprobe_multi_opts *opts, ebpfdsl_link **out,
				char *err, size_t errlen)
{
	struct ebpfdsl_kprobe_multi_opts o = { .sz = sizeof(o) };
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct names ns = { 0 };
	struct kprobe_pmu pmu;
	const char **syms;
	struct ebpfdsl_link *l = NULL;
	char what[512], src[300] = "", multi_why[160];
	int fd, e, multi_errno;

	EBPFDSL_OPTS_COPY(o, opts);
	if (!o.pattern == !o.syms)
		return ebpfdsl__err(err, errlen, EINVAL, "kprobe_multi: give either a pattern or a list of names");
	if (o.pattern) {
		if (o.cookies)
			return ebpfdsl__err(err, errlen, EINVAL, "kprobe_multi: cookies go with a list of names, not a pattern");
		e = match_functions(o.pattern, &ns, src, sizeof(src));
		if (e < 0) {
			names_free(&ns);
			return ebpfdsl__err(err, errlen, e, "kprobe_multi '%s': listing kernel functions", o.pattern);
		}
		if (ns.n == 0) {
			names_free(&ns);
			return ebpfdsl__err(err, errlen, ENOENT, "kprobe_multi '%s': no kernel function matches (searched %s)",
					o.pattern, src);
		}
		syms = (const char **)ns.v;
		o.cnt = ns.n;
		snprintf(what, sizeof(what), "kprobe_multi '%s' (%zu function%s in %s)", o.pattern, o.cnt,
			 o.cnt == 1 ? "" : "s", src);
	} else {
		if (o.cnt == 0)
			return ebpfdsl__err(err, errlen, EINVAL, "kprobe_multi: the list of names is empty");
		syms = o.syms;
		snprintf(what, sizeof(what), "kprobe_multi on %zu function%s (%s%s)", o.cnt, o.cnt == 1 ? "" : "s",
			 syms[0], o.cnt > 1 ? ", ..." : "");
	}
	lo.kprobe_multi.syms = syms;
	lo.kprobe_multi.cnt = (__u32)o.cnt;
	lo.kprobe_multi.cookies = (const __u64 *)(const void *)o.cookies;
	lo.kprobe_multi.flags = o.retprobe ? BPF_F_KPROBE_MULTI_RETURN : 0;
	fd = bpf_link_create(prog_fd, 0, BPF_TRACE_KPROBE_MULTI, &lo);
	if (fd >= 0) {
		names_free(&ns);
		l = ebpfdsl__link_new(EBPFDSL_LINK_KPROBE_MULTI, "%s%s", o.retprobe ? "return of " : "",
				      what + strlen("kprobe_multi "));
		if (!l) {
			close(fd);
			return ebpfdsl__err(err, errlen, ENOMEM, "%s", what);
		}
		l->fd = fd;
		*out = l;
		return 0;
	}
	multi_errno = errno;
	if (ebpfdsl_errno_unsupported(multi_errno))
		snprintf(multi_why, sizeof(multi_why), "not supported by this kernel (it needs CONFIG_FPROBE, 5.18+)");
	else if (multi_errno == EINVAL)
		snprintf(multi_why, sizeof(multi_why),
			 "invalid (kernel before 5.18, or the program was not loaded with expected_attach_type "
			 "trace_kprobe_multi)");
	else if (multi_errno == ESRCH || multi_errno == ENOENT)
		snprintf(multi_why, sizeof(multi_why), "a function is not traceable or does not exist");
	else
		snprintf(multi_why, sizeof(multi_why), "%s", ebpfdsl_strerror(multi_errno));
	if (o.no_fallback || multi_errno == ESRCH || multi_errno == ENOENT) {
		names_free(&ns);
		return ebpfdsl__err(err, errlen, multi_errno, "%s: BPF_TRACE_KPROBE_MULTI link %s", what, multi_why);
	}
	l = ebpfdsl__perf_link_new(EBPFDSL_LINK_KPROBE_MULTI, "%s%s", o.retprobe ? "return of " : "",
				   what + strlen("kprobe_multi "));
	if (!l) {
		names_free(&ns);
		return ebpfdsl__err(err, errlen, ENOMEM, "%s", what);
	}
	/* one kprobe per function; all or nothing */
	kprobe_pmu_read(&pmu, o.retprobe);
	for (size_t i = 0; i < o.cnt; i++) {
		struct ebpfdsl_kprobe_opts ko = { .sz = sizeof(ko), .retprobe = o.retprobe,
						  .cookie = o.cookies ? o.cookies[i] : 0 };
		char inner[512];
		e = kprobe_one(l, prog_fd, syms[i], &ko, &pmu, inner, sizeof(inner));
		if (e < 0) {
			/* a program loaded for kprobe_multi links may run on a
			 * perf event (the ioctl) but not through a perf link,
			 * the only way a cookie gets there */
			const char *hint = e == -EINVAL && ko.cookie
						   ? " (a program loaded with expected_attach_type trace_kprobe_multi "
						     "takes no cookies on single kprobes: load it without one where "
						     "the kernel has no kprobe_multi links)"
						   : "";
			ebpfdsl__msg(err, errlen,
				 "%s: BPF_TRACE_KPROBE_MULTI link %s (%s); fallback, one kprobe per function, "
				 "failed at '%s' (%zu of %zu): %s%s",
				 what, multi_why, ebpfdsl_strerror(multi_errno), syms[i], i + 1, o.cnt, inner, hint);
			names_free(&ns);
			ebpfdsl_link__free(l);
			return e;
		}
	}
	names_free(&ns);
	*out = l;
	return 0;
}
