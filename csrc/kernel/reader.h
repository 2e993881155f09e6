/* SPDX-License-Identifier: MIT */
/* What the ring-buffer and perf-buffer readers share: the poll loop that
 * first takes what is there, then waits on an epoll fd until a deadline. */
#ifndef EBPFDSL_KERNEL_READER_H
#define EBPFDSL_KERNEL_READER_H

#include "kernel.h"

/* One pass over every buffer without waiting: records handled, or -errno. */
typedef int (*ebpfdsl_reader_pass_fn)(void *reader);

/* Runs passes until one handles a record or fails; between passes waits
 * on epoll_fd, for at most timeout_ms in all (-1: no limit, 0: one pass). */
int ebpfdsl_reader_poll(int epoll_fd, int timeout_ms, ebpfdsl_reader_pass_fn pass, void *reader);

#endif
