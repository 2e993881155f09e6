/* SPDX-License-Identifier: MIT */
/* What the ring-buffer and perf-buffer readers share: passes over their
 * buffers in turn, and the poll loop that first takes what is there, then
 * waits on an epoll fd until a deadline. */
#ifndef EBPFDSL_KERNEL_READER_H
#define EBPFDSL_KERNEL_READER_H

#include "kernel.h"

/* The state of a reader's passes; its callbacks count `handled` and set
 * `stop` (nonzero: end the pass after this record). */
struct ebpfdsl_reader_turns {
	int count;       /* buffers */
	int next;        /* the buffer the next pass starts with */
	int stop;        /* what the callback stopped the last pass with */
	int64_t handled; /* records given to the callback in this pass */
	int interval_ms; /* > 0: a wait also ends after this long, for a pass */
};

/* Consumes buffer i without waiting: 0 or more records, or -errno. */
typedef int (*ebpfdsl_reader_consume_fn)(void *reader, int i);

/* Runs passes until one handles a record or fails; between passes waits
 * on epoll_fd, for at most timeout_ms in all (-1: no limit, 0: one pass)
 * and, with t->interval_ms, at most that long at a time. Records handled,
 * or -errno. */
int ebpfdsl_reader_poll(int epoll_fd, int timeout_ms, struct ebpfdsl_reader_turns *t,
			ebpfdsl_reader_consume_fn consume, void *reader);

#endif
