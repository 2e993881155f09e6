/* SPDX-License-Identifier: MIT */
/* The parts of a uprobe attach that uprobe_prefetch.c shares with
 * attach_uprobe.c: resolving the file and offset, the perf event's
 * attributes and its open, and taking a prefetched event. */
#ifndef EBPFDSL_UPROBE_H
#define EBPFDSL_UPROBE_H

#include <stdint.h>
#include <linux/perf_event.h>
#include "../ebpfdsl.h"

/* The file probed for `binary` (as ebpfdsl_find_binary finds it) and
 * the offset of o's symbol + offset in it; `at` names the place for
 * messages. 0 or -errno, with err. */
int ebpfdsl__uprobe_resolve(const char *binary, const struct ebpfdsl_uprobe_opts *o, char *path, size_t pathlen,
			    uint64_t *off, char *at, size_t atlen, char *err, size_t errlen);
/* The attributes of that uprobe on the uprobe PMU of `type`; attr keeps
 * a pointer to path. 0, or -errno when a retprobe has no format bit. */
int ebpfdsl__uprobe_attr(struct perf_event_attr *attr, int type, const char *path, uint64_t off,
			 const struct ebpfdsl_uprobe_opts *o);
/* perf_event_open of attr for o's pid (or every process): fd or -1,
 * errno set. */
int ebpfdsl__uprobe_open(struct perf_event_attr *attr, const struct ebpfdsl_uprobe_opts *o);
/* The prefetched event for path, off and o's kind, pid and semaphore,
 * taken off the list once its open is done: its fd, or -1 when none
 * was prefetched or its open failed (the caller opens again and says
 * why). */
int ebpfdsl__uprobe_prefetched(const char *path, uint64_t off, const struct ebpfdsl_uprobe_opts *o);

#endif
