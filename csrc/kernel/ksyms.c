/* SPDX-License-Identifier: MIT */
/* The kernel's symbols from /proc/kallsyms into a symbol table: code only,
 * modules named, and a plain answer when kptr_restrict hides the addresses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel.h"

#define KALLSYMS "/proc/kallsyms"
/* Four megabytes of text: read in large pieces, the kernel's part of the
 * work is a third smaller than with stdio's 4 KiB. */
#define KALLSYMS_BUF (256 * 1024)

/* Data symbols (bss, data, read-only data) hold no code: a stack never
 * points into them, and leaving them out keeps code addresses from being
 * named after the variable that precedes them (bcc does the same). */
static int is_data(char type)
{
	return strchr("bBdDrR", type) != NULL;
}

/* Per-CPU offsets and other absolute symbols sit at small numbers, below
 * where any 64-bit kernel maps itself; bcc draws the same line. */
static int below_kernel(unsigned long long addr)
{
	return sizeof(void *) == 8 && addr < 0x00ffffffffffffffULL;
}

static void kptr_restrict(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/kptr_restrict", "re");
	snprintf(buf, len, "unknown");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

int ebpfdsl_symtab_kallsyms(ebpfdsl_symtab **out, char *err, size_t errlen)
{
	char line[2048], *buf;
	size_t lines = 0, nonzero = 0;
	int e = 0;
	ebpfdsl_symtab *t;
	FILE *f = fopen(KALLSYMS, "re");
	*out = NULL;
	if (!f)
		return ebpfdsl__err(err, errlen, errno, "opening " KALLSYMS);
	t = ebpfdsl_symtab__new();
	buf = malloc(KALLSYMS_BUF);
	if (!t || !buf) {
		fclose(f);
		free(buf);
		ebpfdsl_symtab__free(t);
		return ebpfdsl__err(err, errlen, ENOMEM, "reading " KALLSYMS);
	}
	setvbuf(f, buf, _IOFBF, KALLSYMS_BUF);
	/* "ffffffff81000000 T _text" or "ffffffffc0a01000 t f\t[module]" */
	while (fgets(line, sizeof(line), f)) {
		char *p, *name, *module = NULL, type;
		unsigned long long addr = strtoull(line, &p, 16);
		lines++;
		if (p == line || p[0] != ' ' || !p[1] || p[2] != ' ')
			continue;
		if (addr)
			nonzero++;
		type = p[1];
		if (!addr || is_data(type) || below_kernel(addr))
			continue;
		name = p + 3;
		name[strcspn(name, "\n")] = '\0';
		p = strchr(name, '\t');
		if (p) {
			*p++ = '\0';
			if (*p == '[') {
				module = p + 1;
				module[strcspn(module, "]")] = '\0';
			}
		}
		e = ebpfdsl_symtab__add(t, addr, 0, name, module, type);
		if (e)
			break;
	}
	fclose(f);
	free(buf);
	if (!e && lines && !nonzero) {
		char k[32];
		kptr_restrict(k, sizeof(k));
		ebpfdsl__msg(err, errlen,
			 KALLSYMS " shows every address as 0: kernel.kptr_restrict is %s (0 shows them to "
			 "processes with CAP_SYSLOG, 1 to root with it, 2 to no one)",
			 k);
		e = -EPERM;
	} else if (!e && !lines) {
		ebpfdsl__msg(err, errlen, KALLSYMS " is empty");
		e = -ENOENT;
	} else if (e) {
		ebpfdsl__err(err, errlen, e, "reading " KALLSYMS);
	}
	if (!e)
		e = ebpfdsl_symtab__finish(t);
	if (e) {
		ebpfdsl_symtab__free(t);
		return e;
	}
	*out = t;
	return 0;
}
