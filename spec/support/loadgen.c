/* SPDX-License-Identifier: MIT */
/* Other activity on the machine, for `make test-under-load`: getppid, openat,
 * loopback TCP connects and fork+exec at full speed, on one CPU, for a bounded time.
 *
 * usage: loadgen SECONDS [CPU]   (CPU: default the last online one)
 * Four workers share the CPU, one per kind of call, and stop at the deadline,
 * when the parent dies, or when it is told to stop (SIGTERM, SIGINT); the
 * parent then prints how many of each ran, per second. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

enum { GETPPID, OPENAT, CONNECT, FORK_EXEC, KINDS };
static const char *const NAMES[KINDS] = { "getppid", "openat", "connect", "fork+exec" };

static volatile unsigned long *counts; /* shared with the workers */
static double deadline;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts one call; says whether time is up (a vDSO call: cheap). */
static int tick(int kind)
{
	counts[kind]++;
	return now() >= deadline;
}

static void run_getppid(void)
{
	do
		syscall(SYS_getppid); /* as the specs' own children call it */
	while (!tick(GETPPID));
}

static void run_openat(void)
{
	static const char *const paths[] = { "/etc/hostname", "/dev/null", "/nonexistent/ebpfdsl-loadgen" };
	unsigned i = 0;
	do {
		int fd = openat(AT_FDCWD, paths[i++ % 3], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	} while (!tick(OPENAT));
}

/* connect(2) through the C library, to a listener of our own on 127.0.0.1 */
static void run_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int one = 1, srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srv < 0 || setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(srv, (struct sockaddr *)&a, sizeof(a)) || listen(srv, 64) ||
	    getsockname(srv, (struct sockaddr *)&a, &len)) {
		perror("loadgen: listener");
		return;
	}
	do {
		/* closed with a reset, not into TIME_WAIT: thousands a second
		 * would take every ephemeral port of the machine */
		struct linger reset = { .l_onoff = 1, .l_linger = 0 };
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;
		if (c < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		s = connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 ? accept4(srv, NULL, NULL, SOCK_CLOEXEC) : -1;
		close(c); /* the reset first: neither end lingers */
		if (s >= 0)
			close(s);
	} while (!tick(CONNECT));
}

static void run_fork_exec(void)
{
	static char *const argv[] = { "true", NULL };
	do {
		pid_t pid = fork();
		if (pid == 0) {
			execv("/bin/true", argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	} while (!tick(FORK_EXEC));
}

static void (*const WORKERS[KINDS])(void) = { run_getppid, run_openat, run_connect, run_fork_exec };

static volatile sig_atomic_t stop;
static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0, t0;
	long cpu = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN) - 1;
	pid_t pids[KINDS], parent = getpid();
	cpu_set_t set;

	if (seconds <= 0 || seconds > 7200 || cpu < 0) {
		fprintf(stderr, "usage: loadgen SECONDS (1..7200) [CPU]\n");
		return 2;
	}
	counts = mmap(NULL, sizeof(unsigned long) * KINDS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("loadgen: mmap");
		return 1;
	}
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) /* inherited by the workers */
		perror("loadgen: sched_setaffinity (running unpinned)");
	t0 = now();
	deadline = t0 + seconds;
	for (int k = 0; k < KINDS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			/* a worker never outlives the parent, nor the deadline */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			alarm((unsigned)seconds + 5);
			WORKERS[k]();
			_exit(0);
		}
		if (pids[k] < 0) {
			perror("loadgen: fork");
			pids[k] = 0;
		}
	}
	{
		/* no SA_RESTART: a stop interrupts the wait below */
		struct sigaction sa = { .sa_handler = on_stop };
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	for (int k = 0; k < KINDS; k++) {
		while (pids[k] > 0 && waitpid(pids[k], NULL, 0) < 0 && errno == EINTR)
			if (stop)
				for (int j = 0; j < KINDS; j++)
					if (pids[j] > 0)
						kill(pids[j], SIGKILL);
	}
	t0 = now() - t0;
	printf("loadgen: %.0f s on CPU %ld:", t0, cpu);
	for (int k = 0; k < KINDS; k++)
		printf(" %s %.0f/s", NAMES[k], (double)counts[k] / t0);
	printf("\n");
	return 0;
}
