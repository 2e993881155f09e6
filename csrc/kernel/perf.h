/* SPDX-License-Identifier: MIT */
/* Perf events as attach points (attach_perf.c): opening one, the dynamic
 * PMUs of probes, and the link kind made of perf event attachments. */
#ifndef EBPFDSL_PERF_H
#define EBPFDSL_PERF_H

#include <stdint.h>
#include "link.h"

/* perf_event_open(2). */
int ebpfdsl__perf_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags);
/* The dynamic type of a PMU (kprobe, uprobe) from sysfs, or -errno. */
int ebpfdsl__pmu_type(const char *pmu);
/* The config bit of the PMU's "retprobe" format, or -errno. */
int ebpfdsl__pmu_retprobe_bit(const char *pmu);

/* A link of `kind` holding perf event attachments (one per CPU, per
 * function...), none yet; NULL when out of memory. */
struct ebpfdsl_link *ebpfdsl__perf_link_new(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Attaches prog_fd to the perf event pfd: a BPF_PERF_EVENT link with
 * the cookie, else PERF_EVENT_IOC_SET_BPF (no cookie) and enable.
 * Adds it to l, a perf link (taking pfd), or closes pfd; 0 or -errno,
 * with err. */
int ebpfdsl__perf_attach(struct ebpfdsl_link *l, int prog_fd, int pfd, uint64_t cookie, const char *what, char *err,
			 size_t errlen);
/* Legacy tracefs probes: adds `def` ("p:kprobes/NAME func\n") to
 * events_file in tracefs, opens a perf tracepoint event on it for pid
 * (or every process) and attaches prog_fd; detaching l removes the
 * event. events_file outlives l (the callers pass literals). 0 or -errno,
 * with err. */
int ebpfdsl__perf_attach_probe(struct ebpfdsl_link *l, int prog_fd, const char *events_file, const char *group,
			       const char *name, const char *def, int pid, uint64_t cookie, char *err, size_t errlen);

#endif
