/* SPDX-License-Identifier: MIT */
/* uprobes and uretprobes: a file and an offset (from a symbol through
 * libelf) on the uprobe PMU, else tracefs uprobe_events. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "perf.h"
#include "tracefs.h"
#include "uprobe.h"

int ebpfdsl__uprobe_attr(struct perf_event_attr *attr, int type, const char *path, uint64_t off,
			 const struct ebpfdsl_uprobe_opts *o)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = (unsigned)type;
	if (o->retprobe) {
		int bit = ebpfdsl__pmu_retprobe_bit("uprobe");
		if (bit < 0)
			return bit;
		attr->config |= 1ULL << bit;
	}
	/* the PMU's format/ref_ctr_offset: config:32-63 (libbpf's
	 * PERF_UPROBE_REF_CTR_OFFSET_SHIFT; no uapi header names it) */
	attr->config |= o->ref_ctr_offset << 32;
	attr->config1 = (uint64_t)(unsigned long)path; /* uprobe_path */
	attr->config2 = off;                            /* probe_offset */
	return 0;
}

int ebpfdsl__uprobe_open(struct perf_event_attr *attr, const struct ebpfdsl_uprobe_opts *o)
{
	return ebpfdsl__perf_open(attr, o->pid > 0 ? o->pid : -1, o->pid > 0 ? -1 : 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static int uprobe_pmu(struct ebpfdsl_link *l, int prog_fd, const char *path, uint64_t off,
		      const struct ebpfdsl_uprobe_opts *o, int type, const char *what, char *err, size_t errlen)
{
	struct perf_event_attr attr;
	int pfd = ebpfdsl__uprobe_prefetched(path, off, o);

	if (pfd >= 0)
		return ebpfdsl__perf_attach(l, prog_fd, pfd, o->cookie, what, err, errlen);
	pfd = ebpfdsl__uprobe_attr(&attr, type, path, off, o);
	if (pfd < 0)
		return ebpfdsl__err(err, errlen, pfd, "%s: the uprobe PMU has no retprobe format", what);
	pfd = ebpfdsl__uprobe_open(&attr, o);
	if (pfd < 0) {
		int e = errno;
		if (e == ESRCH)
			return ebpfdsl__err(err, errlen, e, "%s: no process %d", what, o->pid);
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"%s: the uprobe PMU refused offset 0x%llx (past the end of the file, or "
					"not an instruction boundary)",
					what, (unsigned long long)off);
		return ebpfdsl__err(err, errlen, e, "%s: perf_event_open on the uprobe PMU", what);
	}
	return ebpfdsl__perf_attach(l, prog_fd, pfd, o->cookie, what, err, errlen);
}

int ebpfdsl__uprobe_resolve(const char *binary, const struct ebpfdsl_uprobe_opts *o, char *path, size_t pathlen,
			    uint64_t *off, char *at, size_t atlen, char *err, size_t errlen)
{
	const char *kind = o->retprobe ? "uretprobe" : "uprobe";
	int e;

	if (!binary || !*binary)
		return ebpfdsl__err(err, errlen, EINVAL, "%s: a binary or library is needed", kind);
	e = ebpfdsl_find_binary(binary, path, pathlen);
	if (e < 0) {
		if (strchr(binary, '/'))
			return ebpfdsl__err(err, errlen, e, "%s on %s", kind, binary);
		return ebpfdsl__err(err, errlen, e, "%s: '%s' not found (%s)", kind, binary,
				strncmp(binary, "lib", 3) == 0 || strcmp(binary, "c") == 0
					? "searched this process's maps, /etc/ld.so.cache and the library directories"
					: "searched $PATH");
	}
	*off = o->offset;
	if (o->symbol) {
		uint64_t symoff;
		e = ebpfdsl_elf_symbol_offset(path, o->symbol, &symoff, err, errlen);
		if (e < 0) {
			char inner[512];
			snprintf(inner, sizeof(inner), "%s", err ? err : "");
			ebpfdsl__msg(err, errlen, "%s: %s", kind, inner);
			return e;
		}
		*off += symoff;
		snprintf(at, atlen, o->offset ? "%s+%llu" : "%s", o->symbol, (unsigned long long)o->offset);
	} else {
		snprintf(at, atlen, "0x%llx", (unsigned long long)*off);
	}
	return 0;
}

int ebpfdsl_attach_uprobe(int prog_fd, const char *binary, const struct ebpfdsl_uprobe_opts *opts,
			  ebpfdsl_link **out, char *err, size_t errlen)
{
	struct ebpfdsl_uprobe_opts o = { .sz = sizeof(o) };
	const char *kind;
	char path[PATH_MAX], what[PATH_MAX + 512], at[300];
	struct ebpfdsl_link *l;
	uint64_t off;
	int e, type;

	EBPFDSL_OPTS_COPY(o, opts);
	kind = o.retprobe ? "uretprobe" : "uprobe";
	e = ebpfdsl__uprobe_resolve(binary, &o, path, sizeof(path), &off, at, sizeof(at), err, errlen);
	if (e < 0)
		return e;
	if (o.pid > 0)
		snprintf(what, sizeof(what), "%s on %s:%s (pid %d)", kind, path, at, o.pid);
	else
		snprintf(what, sizeof(what), "%s on %s:%s", kind, path, at);
	l = ebpfdsl__perf_link_new(EBPFDSL_LINK_UPROBE, "%s%s:%s", o.retprobe ? "return of " : "", path, at);
	if (!l)
		return ebpfdsl__err(err, errlen, ENOMEM, "%s", what);
	type = ebpfdsl__pmu_type("uprobe");
	if (type >= 0) {
		e = uprobe_pmu(l, prog_fd, path, off, &o, type, what, err, errlen);
	} else {
		char name[64], def[PATH_MAX + 128], inner[512];
		ebpfdsl__tracefs_event_name(name, sizeof(name));
		snprintf(def, sizeof(def), o.ref_ctr_offset ? "%c:uprobes/%s %s:0x%llx(0x%llx)\n" : "%c:uprobes/%s %s:0x%llx\n",
			 o.retprobe ? 'r' : 'p', name, path, (unsigned long long)off,
			 (unsigned long long)o.ref_ctr_offset);
		e = ebpfdsl__perf_attach_probe(l, prog_fd, "uprobe_events", "uprobes", name, def, o.pid, o.cookie, inner,
					 sizeof(inner));
		if (e < 0)
			ebpfdsl__msg(err, errlen,
				 "%s: no uprobe PMU (/sys/bus/event_source/devices/uprobe/type: %s), and tracefs "
				 "uprobe_events failed: %s",
				 what, ebpfdsl_strerror(-type), inner);
	}
	if (e < 0) {
		ebpfdsl_link__free(l);
		return e;
	}
	*out = l;
	return 0;
}
