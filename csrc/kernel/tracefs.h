/* SPDX-License-Identifier: MIT */
/* tracefs for the attach files: where it is, and the legacy dynamic probe
 * files (kprobe_events, uprobe_events) where a probe is added and removed. */
#ifndef EBPFDSL_TRACEFS_H
#define EBPFDSL_TRACEFS_H

#include <stddef.h>

/* The mounted directory (/sys/kernel/tracing, mounted there when absent,
 * or the debugfs one); NULL when there is none. */
const char *ebpfdsl__tracefs_dir(void);
/* A fresh event name, unique in this process: "ebpfdsl_<pid>_<n>". */
void ebpfdsl__tracefs_event_name(char *buf, size_t len);
/* Adds the probe `def` ("p:kprobes/NAME func\n") to events_file
 * ("kprobe_events") after removing the stale ones of dead processes;
 * returns the id of the event "group/name" for a perf tracepoint event,
 * or -errno with err filled (nothing left behind). */
int ebpfdsl__tracefs_probe_add(const char *events_file, const char *group, const char *name, const char *def,
			       char *err, size_t errlen);
/* Removes the event "group/name" from events_file; best effort (an event
 * that cannot be removed stays until reboot). */
void ebpfdsl__tracefs_probe_remove(const char *events_file, const char *event);

#endif
