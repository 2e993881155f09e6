/* SPDX-License-Identifier: MIT */
/* Calls getppid(2) exactly argv[1] times, straight through syscall(2) so
 * no library caches it, then prints its own pid (one getpid(2)); given a
 * second argument, also what getppid returned. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, ppid = -1;
	for (long i = 0; i < n; i++)
		ppid = syscall(SYS_getppid);
	if (argc > 2)
		printf("%d %ld\n", (int)getpid(), ppid);
	else
		printf("%d\n", (int)getpid());
	return 0;
}
