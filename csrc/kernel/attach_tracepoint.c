/* SPDX-License-Identifier: MIT */
/* Tracepoints: the tracefs event id opened as a perf event and linked to
 * the program; raw tracepoints by name through BPF_RAW_TRACEPOINT_OPEN. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "perf.h"
#include "tracefs.h"

static int tracepoint_id(const char *category, const char *name, char *err, size_t errlen)
{
	const char *dir = ebpfdsl__tracefs_dir();
	char path[512], buf[32];
	struct stat st;
	ssize_t n;
	int fd;

	if (!dir)
		return ebpfdsl__err(err, errlen, ENOENT,
				"tracepoint %s/%s: tracefs is not mounted at /sys/kernel/tracing and could not be",
				category, name);
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, category, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		char cat[512];
		snprintf(cat, sizeof(cat), "%s/events/%s", dir, category);
		if (e == ENOENT && stat(cat, &st) < 0)
			return ebpfdsl__err(err, errlen, e, "tracepoint %s/%s: no tracepoint category '%s' (%s)", category,
					name, category, cat);
		if (e == ENOENT)
			return ebpfdsl__err(err, errlen, e, "tracepoint %s/%s: no such tracepoint in category '%s' (%s)",
					category, name, category, path);
		return ebpfdsl__err(err, errlen, e, "tracepoint %s/%s: %s", category, name, path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ebpfdsl__err(err, errlen, n < 0 ? errno : EIO, "tracepoint %s/%s: reading %s", category, name, path);
	buf[n] = '\0';
	return atoi(buf);
}

static int valid_part(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == '.' || *s == ' ')
			return 0;
	return 1;
}

int ebpfdsl_attach_tracepoint(int prog_fd, const char *category, const char *name, uint64_t cookie,
			      ebpfdsl_link **out, char *err, size_t errlen)
{
	struct perf_event_attr attr;
	struct ebpfdsl_link *l;
	char what[300];
	int id, pfd, e;

	if (!valid_part(category) || !valid_part(name))
		return ebpfdsl__err(err, errlen, EINVAL, "tracepoint '%s/%s': category and name must be plain names",
				category ? category : "", name ? name : "");
	id = tracepoint_id(category, name, err, errlen);
	if (id < 0)
		return id;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (uint64_t)id;
	/* a tracepoint's programs run on every CPU: one event is enough */
	pfd = ebpfdsl__perf_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return ebpfdsl__err(err, errlen, errno, "tracepoint %s/%s: perf_event_open(PERF_TYPE_TRACEPOINT, id %d)",
				category, name, id);
	l = ebpfdsl__perf_link_new(EBPFDSL_LINK_TRACEPOINT, "%s/%s", category, name);
	if (!l) {
		close(pfd);
		return ebpfdsl__err(err, errlen, ENOMEM, "tracepoint %s/%s", category, name);
	}
	snprintf(what, sizeof(what), "tracepoint %s/%s", category, name);
	e = ebpfdsl__perf_attach(l, prog_fd, pfd, cookie, what, err, errlen);
	if (e < 0) {
		ebpfdsl_link__free(l);
		return e;
	}
	*out = l;
	return 0;
}

int ebpfdsl_attach_raw_tracepoint(int prog_fd, const char *name, ebpfdsl_link **out, char *err, size_t errlen)
{
	struct ebpfdsl_link *l;
	int fd;

	if (!name || !*name)
		return ebpfdsl__err(err, errlen, EINVAL, "raw tracepoint: a name is needed");
	fd = bpf_raw_tracepoint_open(name, prog_fd);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return ebpfdsl__err(err, errlen, e, "raw tracepoint '%s': the kernel has no such tracepoint", name);
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"raw tracepoint '%s': refused (the program must be of type raw_tracepoint "
					"or raw_tracepoint_writable)",
					name);
		return ebpfdsl__err(err, errlen, e, "raw tracepoint '%s'", name);
	}
	l = ebpfdsl__link_new(EBPFDSL_LINK_RAW_TRACEPOINT, "%s", name);
	if (!l) {
		close(fd);
		return ebpfdsl__err(err, errlen, ENOMEM, "raw tracepoint '%s'", name);
	}
	l->fd = fd;
	*out = l;
	return 0;
}

/* The kernel function a tracing program targets, by its BTF id, in the
 * process's one parsed vmlinux BTF. */
static const char *vmlinux_name(unsigned id)
{
	const ebpfdsl_btf *vmlinux = ebpfdsl_btf__vmlinux();
	struct ebpfdsl_btf_type t;
	if (!vmlinux || !id || ebpfdsl_btf__type(vmlinux, id, &t))
		return NULL;
	return t.name;
}

/* From the program-type rows (prog_defs.c), those that attach_tracing
 * attaches: is `type` one of theirs, and (into buf) the attach types of
 * those that go through a trampoline, "fentry/fexit/fmod_ret/lsm". */
static int tracing_type(int type)
{
	const struct ebpfdsl_prog_def *d;
	for (size_t i = 0; (d = ebpfdsl_prog_def_at(i)) != NULL; i++)
		if (d->attach_method && strcmp(d->attach_method, "attach_tracing") == 0 &&
		    ebpfdsl_prog_def__type(d) == type)
			return 1;
	return 0;
}

static const char *trampoline_names(char *buf, size_t len)
{
	const struct ebpfdsl_prog_def *d;
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; (d = ebpfdsl_prog_def_at(i)) != NULL && n < len; i++)
		if ((d->flags & EBPFDSL_PROG_DEF_TRAMPOLINE) && d->attach_type && d->attach_method &&
		    strcmp(d->attach_method, "attach_tracing") == 0) {
			int k = snprintf(buf + n, len - n, "%s%s", n ? "/" : "", d->name);
			n += k > 0 ? (size_t)k : 0;
		}
	return buf;
}

int ebpfdsl_attach_tracing(int prog_fd, ebpfdsl_link **out, char *err, size_t errlen)
{
	char kinds[64];
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct ebpfdsl_link *l;
	const char *name;
	int fd;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return ebpfdsl__err(err, errlen, errno, "tracing attach: fd %d is not a program", prog_fd);
	if (!tracing_type((int)info.type))
		return ebpfdsl__err(err, errlen, EINVAL,
				"tracing attach of '%s': refused (a program of type tracing or lsm loaded with "
				"attach_btf_id and expected_attach_type %s is needed, not %s)",
				info.name, trampoline_names(kinds, sizeof(kinds)), ebpfdsl_prog_type_name((int)info.type));
	/* With no name, the kernel attaches a tracing or lsm program where
	 * its attach_btf_id says. */
	fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (fd < 0) {
		int e = errno;
		if (ebpfdsl_errno_unsupported(e))
			return ebpfdsl__err(err, errlen, e,
					"tracing attach of '%s' (btf id %u): the kernel cannot attach trampolines "
					"here (needs CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS and a traceable function)",
					info.name, info.attach_btf_id);
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"tracing attach of '%s': refused (a program of type tracing or lsm loaded "
					"with attach_btf_id and expected_attach_type %s is needed)",
					info.name, trampoline_names(kinds, sizeof(kinds)));
		return ebpfdsl__err(err, errlen, e, "tracing attach of '%s' (btf id %u)", info.name, info.attach_btf_id);
	}
	name = vmlinux_name(info.attach_btf_id); /* module ids lie past vmlinux: NULL */
	if (name)
		l = ebpfdsl__link_new(EBPFDSL_LINK_TRACING, "%s", name);
	else
		l = ebpfdsl__link_new(EBPFDSL_LINK_TRACING, "btf id %u", info.attach_btf_id);
	if (!l) {
		close(fd);
		return ebpfdsl__err(err, errlen, ENOMEM, "tracing attach");
	}
	l->fd = fd;
	*out = l;
	return 0;
}
