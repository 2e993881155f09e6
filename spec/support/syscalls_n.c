/* SPDX-License-Identifier: MIT */
/* Makes exactly the system calls it is told, straight through syscall(2):
 * "syscalls_n getpgid 7 getpriority 3", then prints its pid (one getpid). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		long n = atol(argv[i + 1]), nr;
		if (strcmp(argv[i], "getppid") == 0)
			nr = SYS_getppid;
		else if (strcmp(argv[i], "getpgid") == 0)
			nr = SYS_getpgid;
		else if (strcmp(argv[i], "getpriority") == 0)
			nr = SYS_getpriority;
		else
			return 2;
		for (long k = 0; k < n; k++)
			syscall(nr, 0L, 0L);
	}
	printf("%d\n", (int)getpid());
	return 0;
}
