/* SPDX-License-Identifier: MIT */
/* Finding tracefs, where tracepoint formats live: the modern mount point,
 * the old debugfs one, or a fresh mount when neither is there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include "kernel.h"

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
