/* SPDX-License-Identifier: MIT */
/* A child for the symbol specs: prints its pid and where its functions are (getppid's in
 * the C library, not a PLT stub), then calls getppid(2) from level3 <- level2 <- level1 <-
 * main every 10 ms, N times, then sleeps. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

/* The syscall instruction in level3 itself: through libc's wrapper, which keeps
 * no frame pointer, a frame-pointer walk would skip level3. */
static long __attribute__((noinline)) level3(void)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_getppid;
	register long x0 __asm__("x0");
	__asm__ volatile("svc #0" : "=r"(x0) : "r"(x8) : "memory");
	return x0;
#else
	return syscall(SYS_getppid);
#endif
}

static long __attribute__((noinline)) level2(void)
{
	return level3() + 1;
}

long __attribute__((noinline)) level1(void)
{
	return level2() + 1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, rest = argc > 2 ? atol(argv[2]) : 0;
	printf("%d level1=%p level2=%p level3=%p main=%p getppid=%p\n", (int)getpid(), (void *)level1,
	       (void *)level2, (void *)level3, (void *)main, dlsym(RTLD_DEFAULT, "getppid"));
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		level1();
		usleep(10000);
	}
	sleep((unsigned)rest);
	return 0;
}
