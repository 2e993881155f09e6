/* SPDX-License-Identifier: MIT */
/* The workload of the ebpfdsl.trace specs: it prints its pid, waits for
 * SIGUSR1 (so a tracer can attach first), then does exactly what its
 * arguments say and exits, making no other system call in between:
 *   open PATH          one openat of PATH
 *   getppid N          N getppid calls
 *   read N SIZE        N reads of SIZE bytes from /dev/zero (opened before the wait)
 *   write N SIZE       N writes of SIZE bytes to /dev/null (opened before the wait)
 *   add A B            one call of trace_target_add(A, B) (for uprobes)
 *   sleep US...        one call of trace_target_sleep(US) per argument
 *   spin MS            burn MS milliseconds of CPU time in trace_target_spin
 *   connect PORT       one TCP connect to 127.0.0.1:PORT (refused or not)
 *   exec PATH ARG...   execve(PATH, [PATH, ARG...])
 * Several actions may follow one another. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* noipa: a real call with its arguments in registers, never inlined. */
__attribute__((noinline, noipa)) long trace_target_add(long a, long b)
{
	__asm__ volatile("");
	return a + b;
}

__attribute__((noinline, noipa)) long trace_target_sleep(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	return syscall(SYS_nanosleep, &ts, NULL);
}

static volatile unsigned long sink;

__attribute__((noinline, noipa)) unsigned long trace_target_spin(long ms)
{
	struct timespec a, b;
	/* CPU time, so that a loaded machine does not shorten the work */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do {
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i * 2654435761u;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
	return sink;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	sigset_t set;
	int sig, zero, null;

	zero = open("/dev/zero", O_RDONLY);
	null = open("/dev/null", O_WRONLY);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	if (sigwait(&set, &sig) != 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "open") && i + 1 < argc) {
			syscall(SYS_openat, AT_FDCWD, argv[++i], O_RDONLY);
		} else if (!strcmp(a, "getppid") && i + 1 < argc) {
			for (long n = atol(argv[++i]); n > 0; n--)
				syscall(SYS_getppid);
		} else if ((!strcmp(a, "read") || !strcmp(a, "write")) && i + 2 < argc) {
			long n = atol(argv[i + 1]), size = atol(argv[i + 2]);
			int w = a[0] == 'w';
			if (size > (long)sizeof(buf))
				return 2;
			for (; n > 0; n--)
				syscall(w ? SYS_write : SYS_read, w ? null : zero, buf, size);
			i += 2;
		} else if (!strcmp(a, "add") && i + 2 < argc) {
			trace_target_add(atol(argv[i + 1]), atol(argv[i + 2]));
			i += 2;
		} else if (!strcmp(a, "sleep")) {
			while (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				trace_target_sleep(atol(argv[++i]));
		} else if (!strcmp(a, "spin") && i + 1 < argc) {
			trace_target_spin(atol(argv[++i]));
		} else if (!strcmp(a, "connect") && i + 1 < argc) {
			struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[++i])) };
			int fd = socket(AF_INET, SOCK_STREAM, 0);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			connect(fd, (struct sockaddr *)&sin, sizeof(sin));
			close(fd);
		} else if (!strcmp(a, "exec") && i + 1 < argc) {
			execv(argv[i + 1], argv + i + 1);
			return 3;
		} else {
			return 2;
		}
	}
	syscall(SYS_exit_group, 0);
	return 0;
}
