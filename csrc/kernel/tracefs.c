/* SPDX-License-Identifier: MIT */
/* tracefs: finding it (the modern mount point, the old debugfs one, or a
 * fresh mount), and the legacy probe files where kprobes and uprobes are
 * added and removed by name when the kernel has no PMU for them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include "kernel.h"
#include "tracefs.h"

#define TRACEFS_PRIMARY "/sys/kernel/tracing"
#define TRACEFS_DEBUGFS "/sys/kernel/debug/tracing"

/* A tracefs that is mounted has an events directory. */
static int has_events(const char *root)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/events", root);
	return access(path, F_OK) == 0;
}

static int put(char *buf, size_t len, const char *root)
{
	if (!buf || len <= strlen(root))
		return -ENAMETOOLONG;
	memcpy(buf, root, strlen(root) + 1);
	return 0;
}

int ebpfdsl_tracefs_root(char *buf, size_t len, int mount_if_absent)
{
	if (has_events(TRACEFS_PRIMARY))
		return put(buf, len, TRACEFS_PRIMARY);
	if (has_events(TRACEFS_DEBUGFS))
		return put(buf, len, TRACEFS_DEBUGFS);
	if (!mount_if_absent)
		return -ENOENT;
	if (mount("nodev", TRACEFS_PRIMARY, "tracefs", 0, NULL) != 0)
		return -errno;
	if (!has_events(TRACEFS_PRIMARY))
		return -ENOENT;
	return put(buf, len, TRACEFS_PRIMARY);
}

const char *ebpfdsl__tracefs_dir(void)
{
	/* found (or mounted) once; the mount point does not move */
	static char dir[64];
	if (!dir[0] && ebpfdsl_tracefs_root(dir, sizeof(dir), 1) < 0)
		dir[0] = '\0';
	return dir[0] ? dir : NULL;
}

void ebpfdsl__tracefs_event_name(char *buf, size_t len)
{
	static unsigned seq;
	snprintf(buf, len, "ebpfdsl_%d_%u", (int)getpid(), __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

static void remove_line(const char *events_path, const char *event)
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

void ebpfdsl__tracefs_probe_remove(const char *events_file, const char *event)
{
	const char *dir = ebpfdsl__tracefs_dir();
	char path[512];
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, events_file);
	remove_line(path, event);
}

/* Events of ours whose process died without removing them (a SIGKILL
 * runs no cleanup) stay in the events file until reboot: each new probe
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
		remove_line(events_path, ev);
	}
	fclose(f);
}

int ebpfdsl__tracefs_probe_add(const char *events_file, const char *group, const char *name, const char *def,
			       char *err, size_t errlen)
{
	const char *dir = ebpfdsl__tracefs_dir();
	char path[512], what[300], buf[32];
	int fd, n, e;
	ssize_t got;

	if (!dir)
		return ebpfdsl__err(err, errlen, ENOENT, "no tracefs mounted at /sys/kernel/tracing");
	snprintf(path, sizeof(path), "%s/%s", dir, events_file);
	remove_stale(path, group);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return ebpfdsl__err(err, errlen, errno, "%s", path);
	n = (int)strlen(def);
	if (write(fd, def, (size_t)n) != n) {
		e = errno;
		close(fd);
		/* the definition without its newline */
		return ebpfdsl__err(err, errlen, e, "writing '%.*s' to %s", n && def[n - 1] == '\n' ? n - 1 : n, def,
					 path);
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, group, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	got = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	e = got < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (got >= 0) {
		buf[got] = '\0';
		return atoi(buf);
	}
	ebpfdsl__err(err, errlen, e, "%s: perf event on tracefs event %s/%s", path, group, name);
	snprintf(what, sizeof(what), "%s/%s", group, name);
	ebpfdsl__tracefs_probe_remove(events_file, what);
	return -e;
}
