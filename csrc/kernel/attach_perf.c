/* SPDX-License-Identifier: MIT */
/* Perf events as BPF attach points: opening them, the dynamic PMUs of
 * probes, tracefs and its legacy probe files, and linking a program. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include "link.h"

int ebpfdsl__perf_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags)
{
	return (int)syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
}

const char *ebpfdsl__tracefs_dir(void)
{
	/* found (or mounted) once; the mount point does not move */
	static char dir[64];
	if (!dir[0] && ebpfdsl_tracefs_root(dir, sizeof(dir), 1) < 0)
		dir[0] = '\0';
	return dir[0] ? dir : NULL;
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

int ebpfdsl__perf_attach(struct ebpfdsl_link *l, int prog_fd, int pfd, uint64_t cookie, const char *what, char *err,
		size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int lfd, e;

	o.perf_event.bpf_cookie = cookie;
	lfd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, &o);
	if (lfd >= 0) {
		if (ebpfdsl__link_add(l, lfd, pfd))
			return ebpfdsl__link_err(err, errlen, ENOMEM, "%s", what);
		if (l->nparts == 1)
			l->bpf_link = 1;
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
			return ebpfdsl__link_err(err, errlen, e, "%s: PERF_EVENT_IOC_SET_BPF", what);
		}
		if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
			e = errno;
			close(pfd);
			return ebpfdsl__link_err(err, errlen, e, "%s: PERF_EVENT_IOC_ENABLE", what);
		}
		if (ebpfdsl__link_add(l, -1, pfd))
			return ebpfdsl__link_err(err, errlen, ENOMEM, "%s", what);
		return 0;
	}
	close(pfd);
	if (e == EINVAL)
		goto refused;
	if (e == EEXIST)
		goto again;
	return ebpfdsl__link_err(err, errlen, e, "%s: bpf_link_create(BPF_PERF_EVENT)", what);
refused:
	return ebpfdsl__link_err(err, errlen, e,
			"%s: the kernel refused the program (is its type right for this attach point? a "
			"program loaded for another attach type is refused)",
			what);
again:
	return ebpfdsl__link_err(err, errlen, e, "%s: the program is attached there already", what);
}

void ebpfdsl__tracefs_event_name(char *buf, size_t len)
{
	snprintf(buf, len, "ebpfdsl_%d_%u", (int)getpid(), ebpfdsl__link_seq());
}

/* Events of ours whose process died without removing them (a SIGKILL
 * runs no cleanup) stay in the events file until reboot: each new attach
 * removes those of processes that no longer exist. An event still in use
 * cannot be removed (the kernel says EBUSY), so a live process elsewhere
 * (another pid namespace sharing this tracefs) loses nothing it holds. */
static void remove_stale(const char *events_path, const char *group)
{
	char line[512], prefix[80], ev[300];
	FILE *f = fopen(events_path, "re");
	int n = snprintf(prefix, sizeof(prefix), "%s/ebpfdsl_", group);

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* "p:uprobes/ebpfdsl_<pid>_<n> /path:0x..." */
		const char *at = strchr(line, ':');
		int dead_pid, k = 0;
		unsigned seq;
		if (!at || strncmp(at + 1, prefix, (size_t)n) != 0)
			continue;
		if (sscanf(at + 1 + n, "%d_%u%n", &dead_pid, &seq, &k) != 2 || (at[1 + n + k] != ' ' && at[1 + n + k]))
			continue;
		if (dead_pid <= 0 || dead_pid == getpid() || kill(dead_pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(ev, sizeof(ev), "%s/ebpfdsl_%d_%u", group, dead_pid, seq);
		ebpfdsl__tracefs_event_remove(events_path, ev);
	}
	fclose(f);
}

int ebpfdsl__tracefs_probe_attach(struct ebpfdsl_link *l, int prog_fd, const char *events_file, const char *group,
			 const char *name, const char *def, int pid, uint64_t cookie, char *err, size_t errlen)
{
	const char *dir = ebpfdsl__tracefs_dir();
	struct perf_event_attr attr;
	char path[512], buf[32], ev[256];
	struct link_part *part;
	int fd, n, e, id, pfd;

	if (!dir)
		return ebpfdsl__link_err(err, errlen, ENOENT, "no tracefs mounted at /sys/kernel/tracing");
	snprintf(path, sizeof(path), "%s/%s", dir, events_file);
	remove_stale(path, group);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return ebpfdsl__link_err(err, errlen, errno, "%s", path);
	n = (int)strlen(def);
	if (write(fd, def, (size_t)n) != n) {
		e = errno;
		close(fd);
		/* the definition without its newline */
		return ebpfdsl__link_err(err, errlen, e, "writing '%.*s' to %s", def[n - 1] == '\n' ? n - 1 : n, def, path);
	}
	close(fd);
	snprintf(ev, sizeof(ev), "%s/%s", group, name);
	snprintf(path, sizeof(path), "%s/events/%s/id", dir, ev);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0) {
		e = n;
		goto remove;
	}
	id = atoi(buf);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (uint64_t)id;
	pfd = ebpfdsl__perf_open(&attr, pid > 0 ? pid : -1, pid > 0 ? -1 : 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		e = -errno;
		goto remove;
	}
	n = ebpfdsl__perf_attach(l, prog_fd, pfd, cookie, ev, err, errlen);
	if (n < 0) {
		e = n;
		goto remove_quiet;
	}
	/* the part removes the event on detach: without its name it could
	 * not, so a copy that fails undoes the attachment */
	snprintf(path, sizeof(path), "%s/%s", dir, events_file);
	part = &l->parts[l->nparts - 1];
	part->event = strdup(ev);
	part->event_file = strdup(path);
	if (part->event && part->event_file)
		return 0;
	free(part->event);
	free(part->event_file);
	part->event = part->event_file = NULL;
	ebpfdsl__link_drop_last(l);
	e = ebpfdsl__link_err(err, errlen, ENOMEM, "%s", ev);
	goto remove_quiet;
remove:
	ebpfdsl__link_err(err, errlen, e, "%s: perf event on tracefs event %s", path, ev);
remove_quiet:
	snprintf(path, sizeof(path), "%s/%s", dir, events_file);
	ebpfdsl__tracefs_event_remove(path, ev);
	return e;
}

void ebpfdsl__tracefs_event_remove(const char *events_path, const char *event)
{
	char line[300];
	int fd = open(events_path, O_WRONLY | O_APPEND | O_CLOEXEC), n;
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "-:%s\n", event);
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) < 0) {
		/* nothing more to do: the event stays until reboot */
	}
	close(fd);
}
