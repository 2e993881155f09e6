/* SPDX-License-Identifier: MIT */
/* The poll loop of both readers. It takes what the buffers hold before it
 * waits: a perf event fd forgets it was readable once polled, and a reader
 * stopped by its callback leaves records behind that must not wait for
 * the next wakeup. With an interval it also looks on a timer: ring buffer
 * producers may submit without waking anyone (BPF_RB_NO_WAKEUP). */
#include <errno.h>
#include <limits.h>
#include <time.h>
#include <sys/epoll.h>
#include "reader.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every buffer once, starting where the last stop left off so that one
 * busy buffer cannot starve the others. */
static int pass(struct ebpfdsl_reader_turns *t, ebpfdsl_reader_consume_fn consume, void *reader)
{
	t->stop = 0;
	t->handled = 0;
	for (int k = 0; k < t->count; k++) {
		int i = (t->next + k) % t->count;
		int err = consume(reader, i);
		if (t->stop) {
			t->next = (i + 1) % t->count;
			break;
		}
		if (err < 0)
			return err;
	}
	return t->handled > INT_MAX ? INT_MAX : (int)t->handled;
}

int ebpfdsl_reader_poll(int epoll_fd, int timeout_ms, struct ebpfdsl_reader_turns *t,
			ebpfdsl_reader_consume_fn consume, void *reader)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct epoll_event ev[8];

	t->stop = 0;
	for (;;) {
		int n = pass(t, consume, reader), wait = -1;
		if (n != 0 || timeout_ms == 0)
			return n;
		if (timeout_ms > 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 0;
			wait = (int)left;
		}
		/* records whose producer asked for no wakeup only come this way */
		if (t->interval_ms > 0 && (wait < 0 || wait > t->interval_ms))
			wait = t->interval_ms;
		/* which buffers woke does not matter: the next pass visits all */
		n = epoll_wait(epoll_fd, ev, (int)(sizeof(ev) / sizeof(ev[0])), wait);
		if (n < 0)
			return -errno;
		if (n == 0 && t->interval_ms <= 0)
			return 0;
	}
}
