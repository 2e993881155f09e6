/* SPDX-License-Identifier: MIT */
/* Shows the pt_regs tables from C with no Lua: for every architecture,
 * where a kprobe finds each argument and the return value. Needs no root.
 * Prints "<arch> arg<n> <offset>" and "<arch> sys<n> <offset>" lines. */
#include <errno.h>
#include <stdio.h>
#include <ebpfdsl.h>

int main(void)
{
	const struct ebpfdsl_arch *a;
	const struct ebpfdsl_arch *cur = ebpfdsl_arch_current();

	printf("built for %s\n", cur ? cur->name : "an architecture with no table");
	for (size_t i = 0; (a = ebpfdsl_arch_at(i)) != NULL; i++) {
		if (ebpfdsl_arch_find(a->name) != a || ebpfdsl_arch_find(a->target) != a) {
			fprintf(stderr, "%s: lookup by name or target failed\n", a->name);
			return 1;
		}
		for (int n = 1; n <= a->nargs; n++)
			printf("%s arg%d %d\n", a->name, n, ebpfdsl_arch_arg_offset(a, n));
		for (int n = 1; n <= a->nsyscall_args; n++)
			printf("%s sys%d %d\n", a->name, n, ebpfdsl_arch_syscall_arg_offset(a, n));
		printf("%s rc %d\n", a->name, a->rc.offset);
		/* argument 0 and the first stack argument are not in pt_regs */
		if (ebpfdsl_arch_arg_offset(a, 0) != -ERANGE || ebpfdsl_arch_arg_offset(a, a->nargs + 1) != -ERANGE ||
		    ebpfdsl_arch_syscall_arg_offset(a, a->nsyscall_args + 1) != -ERANGE) {
			fprintf(stderr, "%s: an argument beyond the registers did not give -ERANGE\n", a->name);
			return 1;
		}
	}
	if (ebpfdsl_arch_find("vax") != NULL || ebpfdsl_arch_arg_offset(NULL, 1) != -EINVAL) {
		fprintf(stderr, "unknown architectures must not resolve\n");
		return 1;
	}
	return 0;
}
