/* SPDX-License-Identifier: MIT */
/* Syscall names and numbers of the architecture this is built for: the names
 * listed from <asm/unistd.h> at build time (build/gen), the numbers its own. */
#include <errno.h>
#include <string.h>
#include <asm/unistd.h>
#include "core.h"

/* syscall_names.h holds X(name) for every __NR_name the preprocessor
 * defines (the Makefile lists them with `cc -dM -E`), in C-locale name
 * order; the number is the header's own macro, whatever it expands to. */
#define X(name) { #name, __NR_##name },
static const struct {
	const char *name;
	long nr;
} syscalls[] = {
#if defined(__has_include)
#if __has_include("syscall_names.h")
#include "syscall_names.h"
#endif
#endif
	{ NULL, 0 } /* the end; a build without the list (luarocks' builtin one, before
		     * any make) has nothing else */
};
#undef X

#define SYSCALL_COUNT ((int)(sizeof(syscalls) / sizeof(syscalls[0])) - 1)

int ebpfdsl_syscall_count(void)
{
	return SYSCALL_COUNT;
}

const char *ebpfdsl_syscall_at(int i, long *nr)
{
	if (i < 0 || i >= SYSCALL_COUNT)
		return NULL;
	if (nr)
		*nr = syscalls[i].nr;
	return syscalls[i].name;
}

/* A few hundred entries: a scan costs less than keeping a second order. */
const char *ebpfdsl_syscall_name(long nr)
{
	for (int i = 0; i < SYSCALL_COUNT; i++)
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	return NULL;
}

long ebpfdsl_syscall_nr(const char *name)
{
	int lo = 0, hi = SYSCALL_COUNT;
	if (!name)
		return -EINVAL;
	if (strncmp(name, "sys_", 4) == 0)
		name += 4;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(syscalls[mid].name, name);
		if (c == 0)
			return syscalls[mid].nr;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}
