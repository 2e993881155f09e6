/* SPDX-License-Identifier: MIT */
/* The probe DSL end-to-end target (spec 47): it prints its pid, then waits
 * for lines on stdin telling it to call ebpfdsl_six or to open a file. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* noipa keeps gcc from inlining, cloning or specialising it: a real call
 * with six arguments in registers, and its own return value. The weights
 * make a swapped argument change the result; the sum wraps (unsigned). */
__attribute__((noinline, noipa)) int64_t ebpfdsl_six(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e,
						      int64_t f)
{
	uint64_t r = (uint64_t)a + 2 * (uint64_t)b + 3 * (uint64_t)c + 4 * (uint64_t)d + 5 * (uint64_t)e +
		     6 * (uint64_t)f;
	__asm__ volatile("");
	return (int64_t)r;
}

struct call {
	int64_t v[6];
	int64_t ret;
	long tid;
};

static void *call_six(void *p)
{
	struct call *c = p;
	c->tid = syscall(SYS_gettid);
	c->ret = ebpfdsl_six(c->v[0], c->v[1], c->v[2], c->v[3], c->v[4], c->v[5]);
	return NULL;
}

int main(void)
{
	char line[1200], path[1100], how[16];
	struct call c;

	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		/* "call|tcall a b c d e f": call in this thread or in a new one */
		if (sscanf(line, "%15s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, how,
			   &c.v[0], &c.v[1], &c.v[2], &c.v[3], &c.v[4], &c.v[5]) == 7) {
			pthread_t t;
			if (strcmp(how, "tcall") == 0) {
				if (pthread_create(&t, NULL, call_six, &c) != 0 || pthread_join(t, NULL) != 0)
					return 1;
			} else {
				call_six(&c);
			}
			printf("ret %" PRId64 " tid %ld\n", c.ret, c.tid);
		} else if (sscanf(line, "open %1099s", path) == 1) {
			/* the raw system call: these are exactly the arguments
			 * sys_enter_openat records */
			int flags = O_RDONLY | O_CREAT | O_CLOEXEC;
			long fd = syscall(SYS_openat, AT_FDCWD, path, flags, 0640);
			printf("open %ld dfd %d flags %d mode %d\n", fd < 0 ? -1L : 0L, AT_FDCWD, flags, 0640);
			if (fd >= 0)
				close((int)fd);
		} else {
			continue;
		}
		fflush(stdout);
	}
	return 0;
}
