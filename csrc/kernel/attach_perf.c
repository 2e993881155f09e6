/* SPDX-License-Identifier: MIT */
/* Perf events as BPF attach points: opening them, the dynamic PMUs of
 * probes, and the perf link kind that owns their attachments. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "perf.h"
#include "tracefs.h"

int ebpfdsl__perf_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags)
{
	return (int)syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	close(fd);
	buf[n] = '\0';
	return (int)n;
}

int ebpfdsl__pmu_type(const char *pmu)
{
	char path[256], buf[32];
	int n;
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return atoi(buf);
}

int ebpfdsl__pmu_retprobe_bit(const char *pmu)
{
	char path[256], buf[64];
	int n, bit;
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/format/retprobe", pmu);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (sscanf(buf, "config:%d", &bit) != 1)
		return -EINVAL;
	return bit;
}

/* One perf event the program runs on: through a BPF_PERF_EVENT link (fd),
 * or through the ioctl (fd -1); a legacy tracefs probe behind it to
 * remove after the event is closed, or none. */
struct perf_part {
	int fd;
	int perf_fd;
	char *event;             /* "kprobes/NAME", or NULL */
	const char *events_file; /* the tracefs file it was added to */
};

struct perf_link {
	struct ebpfdsl_link link;
	struct perf_part *parts;
	int nparts, cap;
};

static struct perf_link *perf_link(const struct ebpfdsl_link *l)
{
	return (struct perf_link *)(void *)l;
}

static void part_close(struct perf_part *p)
{
	if (p->perf_fd >= 0) {
		ioctl(p->perf_fd, PERF_EVENT_IOC_DISABLE, 0);
		close(p->perf_fd);
		p->perf_fd = -1;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->event) {
		ebpfdsl__tracefs_probe_remove(p->events_file, p->event);
		free(p->event);
		p->event = NULL;
	}
}

static int perf_detach(struct ebpfdsl_link *l)
{
	struct perf_link *pl = perf_link(l);
	for (int i = 0; i < pl->nparts; i++)
		part_close(&pl->parts[i]);
	return 0;
}

/* several attachments (per-CPU events) have no one fd to pin */
static int perf_fd(const struct ebpfdsl_link *l)
{
	const struct perf_link *pl = perf_link(l);
	return pl->nparts == 1 && pl->parts[0].fd >= 0 ? pl->parts[0].fd : -ENOTSUP;
}

static int perf_count(const struct ebpfdsl_link *l)
{
	const struct perf_link *pl = perf_link(l);
	return pl->nparts ? pl->nparts : 1;
}

static void perf_dealloc(struct ebpfdsl_link *l)
{
	free(perf_link(l)->parts);
}

static const struct ebpfdsl_link_ops perf_ops = {
	.detach = perf_detach,
	.fd = perf_fd,
	.count = perf_count,
	.dealloc = perf_dealloc,
};

struct ebpfdsl_link *ebpfdsl__perf_link_new(int kind, const char *fmt, ...)
{
	char target[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(target, sizeof(target), fmt, ap);
	va_end(ap);
	return ebpfdsl__link_new_ops(&perf_ops, sizeof(struct perf_link), kind, "%s", target);
}

/* Adds a part; on failure closes fd and perf_fd and returns -ENOMEM. */
static int part_add(struct perf_link *pl, int fd, int pfd)
{
	if (pl->nparts == pl->cap) {
		int cap = pl->cap ? pl->cap * 2 : 4;
		struct perf_part *p = realloc(pl->parts, (size_t)cap * sizeof(*p));
		if (!p) {
			if (fd >= 0)
				close(fd);
			close(pfd);
			return -ENOMEM;
		}
		pl->parts = p;
		pl->cap = cap;
	}
	pl->parts[pl->nparts++] = (struct perf_part){ .fd = fd, .perf_fd = pfd };
	return 0;
}

int ebpfdsl__perf_attach(struct ebpfdsl_link *l, int prog_fd, int pfd, uint64_t cookie, const char *what, char *err,
			 size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int lfd, e;

	o.perf_event.bpf_cookie = cookie;
	lfd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, &o);
	if (lfd >= 0) {
		if (part_add(perf_link(l), lfd, pfd))
			return ebpfdsl__err(err, errlen, ENOMEM, "%s", what);
		return 0;
	}
	e = errno;
	/* kernels before 5.15 have no perf links: the ioctl does the same,
	 * without cookies */
	if (e == EINVAL && cookie == 0) {
		if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0) {
			e = errno;
			close(pfd);
			if (e == EINVAL)
				goto refused;
			if (e == EEXIST)
				goto again;
			return ebpfdsl__err(err, errlen, e, "%s: PERF_EVENT_IOC_SET_BPF", what);
		}
		if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
			e = errno;
			close(pfd);
			return ebpfdsl__err(err, errlen, e, "%s: PERF_EVENT_IOC_ENABLE", what);
		}
		if (part_add(perf_link(l), -1, pfd))
			return ebpfdsl__err(err, errlen, ENOMEM, "%s", what);
		return 0;
	}
	close(pfd);
	if (e == EINVAL)
		goto refused;
	if (e == EEXIST)
		goto again;
	return ebpfdsl__err(err, errlen, e, "%s: bpf_link_create(BPF_PERF_EVENT)", what);
refused:
	return ebpfdsl__err(err, errlen, e,
			"%s: the kernel refused the program (is its type right for this attach point? a "
			"program loaded for another attach type is refused)",
			what);
again:
	return ebpfdsl__err(err, errlen, e, "%s: the program is attached there already", what);
}

int ebpfdsl__perf_attach_probe(struct ebpfdsl_link *l, int prog_fd, const char *events_file, const char *group,
			       const char *name, const char *def, int pid, uint64_t cookie, char *err, size_t errlen)
{
	struct perf_link *pl = perf_link(l);
	struct perf_event_attr attr;
	struct perf_part *part;
	char ev[256];
	int id, pfd, e;

	id = ebpfdsl__tracefs_probe_add(events_file, group, name, def, err, errlen);
	if (id < 0)
		return id;
	snprintf(ev, sizeof(ev), "%s/%s", group, name);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (uint64_t)id;
	pfd = ebpfdsl__perf_open(&attr, pid > 0 ? pid : -1, pid > 0 ? -1 : 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		e = ebpfdsl__err(err, errlen, errno, "%s/events/%s/id: perf event on tracefs event %s",
				      ebpfdsl__tracefs_dir(), ev, ev);
		goto remove;
	}
	e = ebpfdsl__perf_attach(l, prog_fd, pfd, cookie, ev, err, errlen);
	if (e < 0)
		goto remove;
	/* the part removes the event on detach: without its name it could
	 * not, so a copy that fails undoes the attachment */
	part = &pl->parts[pl->nparts - 1];
	part->event = strdup(ev);
	part->events_file = events_file;
	if (part->event)
		return 0;
	part_close(part);
	pl->nparts--;
	e = ebpfdsl__err(err, errlen, ENOMEM, "%s", ev);
remove:
	ebpfdsl__tracefs_probe_remove(events_file, ev);
	return e;
}
