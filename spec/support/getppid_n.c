/* SPDX-License-Identifier: MIT */
/* Calls getppid(2) exactly argv[1] times, straight through syscall(2) so
 * no library caches it, then prints its own pid. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("%d\n", (int)getpid());
	return 0;
}
