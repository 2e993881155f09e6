/* SPDX-License-Identifier: MIT */
/* The uprobe specs' target: each line "a b c" on stdin makes it call the
 * functions below with those arguments and print what they returned. */
#include <stdio.h>

#ifdef TARGET_LIB
#define API __attribute__((visibility("default")))
#else
#define API
#endif

/* noinline and an empty asm keep each a real call with its arguments */
API __attribute__((noinline)) long ebpfdsl_target_add3(long a, long b, long c)
{
	__asm__ volatile("");
	return a + 2 * b + 3 * c;
}

static __attribute__((noinline)) int ebpfdsl_target_local(int x)
{
	__asm__ volatile("");
	return x * 7;
}

#ifndef TARGET_LIB
#ifdef TARGET_USE_LIB
long ebpfdsl_lib_add3(long a, long b, long c);
#define ADD3 ebpfdsl_lib_add3
#else
#define ADD3 ebpfdsl_target_add3
#endif

int main(void)
{
	char line[128];
	long a, b, c;
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%ld %ld %ld", &a, &b, &c) != 3)
			continue;
		printf("%ld %d\n", ADD3(a, b, c), ebpfdsl_target_local((int)a));
		fflush(stdout);
	}
	return 0;
}
#else
API long ebpfdsl_lib_add3(long a, long b, long c)
{
	return ebpfdsl_target_add3(a, b, c) + ebpfdsl_target_local(0);
}
#endif
