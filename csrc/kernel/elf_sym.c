/* SPDX-License-Identifier: MIT */
/* Where a function lives in a file: binaries and libraries found by name
 * as the loader would, symbols read with libelf, turned into offsets. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "kernel.h"

static int copy_path(char *out, size_t len, const char *s)
{
	if (strlen(s) >= len)
		return -ENAMETOOLONG;
	strcpy(out, s);
	return 0;
}

/* The C library this very process runs on, from its own mappings. */
static int self_libc(char *out, size_t len)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "re");
	int e = -ENOENT;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *base;
		if (!p)
			continue;
		p[strcspn(p, "\n")] = '\0';
		base = strrchr(p, '/') + 1;
		if (strncmp(base, "libc.so", 7) == 0 || (strncmp(base, "libc-", 5) == 0 && strstr(base, ".so"))) {
			e = copy_path(out, len, p);
			break;
		}
	}
	fclose(f);
	return e;
}

/* Is the file an ELF object for the machine we run on? */
static int same_machine(const char *path)
{
	static Elf64_Half self_machine;
	unsigned char id[EI_NIDENT + 4];
	int fd;
	ssize_t n;
	Elf64_Half m;
	if (!self_machine) {
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, id, sizeof(id)) != (ssize_t)sizeof(id)) {
			if (fd >= 0)
				close(fd);
			return 1; /* cannot tell: accept */
		}
		close(fd);
		memcpy(&self_machine, id + EI_NIDENT + 2, sizeof(self_machine));
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, id, sizeof(id));
	close(fd);
	if (n != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG) != 0)
		return 0;
	memcpy(&m, id + EI_NIDENT + 2, sizeof(m));
	return m == self_machine;
}

/* glibc's /etc/ld.so.cache ("glibc-ld.so.cache1.1"): entries of key and
 * value string offsets from the start of the file. `prefix` matches
 * names that begin with it ("libz.so" finds "libz.so.1"). */
static int ld_cache_lookup(const char *name, int prefix, char *out, size_t len)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	struct stat st;
	unsigned char *map;
	uint32_t nlibs;
	int fd, e = -ENOENT;
	size_t namelen = strlen(name);

	fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < 48) {
		close(fd);
		return -ENOENT;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	if (memcmp(map, magic, sizeof(magic) - 1) != 0)
		goto out;
	memcpy(&nlibs, map + 20, sizeof(nlibs));
	for (uint32_t i = 0; i < nlibs; i++) {
		size_t at = 48 + (size_t)i * 24;
		uint32_t key, value;
		const char *k, *v;
		if (at + 24 > (size_t)st.st_size)
			break;
		memcpy(&key, map + at + 4, sizeof(key));
		memcpy(&value, map + at + 8, sizeof(value));
		if (key >= st.st_size || value >= st.st_size)
			continue;
		k = (const char *)map + key;
		v = (const char *)map + value;
		if (strnlen(k, (size_t)st.st_size - key) == (size_t)st.st_size - key ||
		    strnlen(v, (size_t)st.st_size - value) == (size_t)st.st_size - value)
			continue;
		if (prefix ? strncmp(k, name, namelen) != 0 : strcmp(k, name) != 0)
			continue;
		if (!same_machine(v))
			continue; /* another ABI's copy (lib32, x32) */
		e = copy_path(out, len, v);
		break;
	}
out:
	munmap(map, (size_t)st.st_size);
	return e;
}

static int search_dirs(const char *name, const char *dirs, char sep, char *out, size_t len)
{
	char buf[PATH_MAX];
	const char *d = dirs;
	while (d && *d) {
		const char *end = strchr(d, sep);
		size_t dl = end ? (size_t)(end - d) : strlen(d);
		if (dl && dl + strlen(name) + 2 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)dl, d, name);
			if (access(buf, R_OK) == 0 && same_machine(buf))
				return copy_path(out, len, buf);
		}
		d = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* Appends ":" (when not first) and s to a list of directories, if it fits. */
static void append(char *list, size_t len, const char *s)
{
	size_t n = strlen(list);
	if (!s || !*s || n + strlen(s) + 2 > len)
		return;
	if (n)
		list[n++] = ':';
	strcpy(list + n, s);
}

int ebpfdsl_find_binary(const char *name, char *out, size_t len)
{
	char dirs[PATH_MAX * 2], libc[PATH_MAX], usr[PATH_MAX], *slash;
	if (!name || !*name)
		return -EINVAL;
	if (strchr(name, '/')) {
		if (access(name, R_OK) < 0)
			return -errno;
		return copy_path(out, len, name);
	}
	if (strcmp(name, "c") == 0 || strcmp(name, "libc") == 0) {
		if (self_libc(out, len) == 0)
			return 0;
		return ld_cache_lookup("libc.so.6", 0, out, len);
	}
	if (strncmp(name, "lib", 3) == 0) {
		int prefix = strstr(name, ".so") == NULL;
		char want[256];
		snprintf(want, sizeof(want), prefix ? "%s.so" : "%s", name);
		if (ld_cache_lookup(want, prefix, out, len) == 0)
			return 0;
		/* the directories the loader searches, with the multiarch one
		 * taken from where our own libc lives */
		dirs[0] = '\0';
		append(dirs, sizeof(dirs), getenv("LD_LIBRARY_PATH"));
		if (self_libc(libc, sizeof(libc)) == 0 && (slash = strrchr(libc, '/'))) {
			*slash = '\0';
			append(dirs, sizeof(dirs), libc);
			if (strncmp(libc, "/usr/", 5) != 0 && strlen(libc) + 5 < sizeof(usr)) {
				strcpy(usr, "/usr");
				strcat(usr, libc);
				append(dirs, sizeof(dirs), usr);
			}
		}
		append(dirs, sizeof(dirs), "/lib64:/usr/lib64:/lib:/usr/lib:/usr/local/lib");
		if (!prefix)
			return search_dirs(name, dirs, ':', out, len);
		return search_dirs(want, dirs, ':', out, len);
	}
	return search_dirs(name, getenv("PATH") ? getenv("PATH") : "/usr/local/bin:/usr/bin:/bin", ':', out, len);
}

/* "malloc@@GLIBC_2.2.5" is "malloc"; so is "malloc@GLIBC_2.2.5". */
static int name_matches(const char *sym, const char *want)
{
	size_t n = strlen(want);
	return strncmp(sym, want, n) == 0 && (sym[n] == '\0' || (sym[n] == '@' && !strchr(want, '@')));
}

struct found {
	GElf_Sym sym;
	int have;
	int ambiguous;
	size_t funcs[2]; /* function symbols seen in .symtab, .dynsym */
	int tables[2];
};

static void scan_table(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, const char *want, struct found *f, int which)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	f->tables[which] = 1;
	for (size_t i = 0; data && i < n; i++) {
		GElf_Sym s;
		const char *name;
		int type;
		if (!gelf_getsym(data, (int)i, &s))
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (s.st_shndx == SHN_UNDEF)
			continue;
		f->funcs[which]++;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !name_matches(name, want))
			continue;
		if (!f->have) {
			f->sym = s;
			f->have = 1;
		} else if (s.st_value != f->sym.st_value) {
			/* a global beats locals of the same name */
			int bind = GELF_ST_BIND(s.st_info), had = GELF_ST_BIND(f->sym.st_info);
			if (bind == STB_GLOBAL && had != STB_GLOBAL)
				f->sym = s;
			else if (!(had == STB_GLOBAL && bind != STB_GLOBAL))
				f->ambiguous = 1;
		}
	}
}

int ebpfdsl_elf_symbol_offset(const char *path, const char *symbol, uint64_t *offset, char *err, size_t errlen)
{
	struct found f;
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t nph = 0;
	int fd, e = 0;

	memset(&f, 0, sizeof(f));
	if (!symbol || !*symbol)
		return ebpfdsl__err(err, errlen, EINVAL, "symbol lookup in %s: a symbol name is needed", path);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ebpfdsl__err(err, errlen, EINVAL, "libelf: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ebpfdsl__err(err, errlen, errno, "symbol '%s': opening %s", symbol, path);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ebpfdsl__msg(err, errlen, "symbol '%s': %s is not an ELF file", symbol, path);
		e = -ENOEXEC;
		goto out;
	}
	/* .symtab first: it has the static functions .dynsym lacks */
	for (int which = 0; which < 2 && !f.have; which++) {
		scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (which == 0 ? SHT_SYMTAB : SHT_DYNSYM))
				scan_table(elf, scn, &sh, symbol, &f, which);
		}
	}
	if (!f.have) {
		char symtab[64], dynsym[64];
		if (f.tables[0])
			snprintf(symtab, sizeof(symtab), "%zu function symbols in .symtab", f.funcs[0]);
		else
			snprintf(symtab, sizeof(symtab), "no .symtab: the file is stripped");
		if (f.tables[1])
			snprintf(dynsym, sizeof(dynsym), "%zu in .dynsym", f.funcs[1]);
		else
			snprintf(dynsym, sizeof(dynsym), "no .dynsym");
		ebpfdsl__msg(err, errlen, "symbol '%s' not found in %s (%s; %s)", symbol, path, symtab, dynsym);
		e = -ENOENT;
		goto out;
	}
	if (f.ambiguous) {
		ebpfdsl__msg(err, errlen, "symbol '%s' in %s: several local functions have that name; give an offset",
			 symbol, path);
		e = -ENOTUNIQ;
		goto out;
	}
	if (GELF_ST_TYPE(f.sym.st_info) == STT_GNU_IFUNC) {
		ebpfdsl__msg(err, errlen,
			 "symbol '%s' in %s is an IFUNC: its address is a resolver run once at load, not the "
			 "function; probe the implementation the resolver picks instead",
			 symbol, path);
		e = -EINVAL;
		goto out;
	}
	/* The address is virtual; the probe wants a file offset: through the
	 * loadable segment that maps it (PIE, shared objects, fixed-address
	 * executables alike), else the section for objects with no segments. */
	if (elf_getphdrnum(elf, &nph) == 0 && nph > 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (f.sym.st_value >= ph.p_vaddr && f.sym.st_value < ph.p_vaddr + ph.p_filesz) {
				*offset = f.sym.st_value - ph.p_vaddr + ph.p_offset;
				goto out;
			}
		}
		ebpfdsl__msg(err, errlen, "symbol '%s' in %s: address 0x%llx is in no loadable segment", symbol, path,
			 (unsigned long long)f.sym.st_value);
		e = -ENOEXEC;
		goto out;
	}
	scn = elf_getscn(elf, f.sym.st_shndx);
	{
		GElf_Shdr sh;
		if (!scn || !gelf_getshdr(scn, &sh)) {
			ebpfdsl__msg(err, errlen, "symbol '%s' in %s: bad section index %u", symbol, path,
				 (unsigned)f.sym.st_shndx);
			e = -ENOEXEC;
			goto out;
		}
		*offset = f.sym.st_value - sh.sh_addr + sh.sh_offset;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return e;
}

/* ------------------------------------------------------------------------
 * Every function symbol of a file, for symbolizing addresses.
 * ------------------------------------------------------------------------ */

/* nm's letter for a function symbol. */
static char sym_letter(const GElf_Sym *s)
{
	if (GELF_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
		return 'i';
	switch (GELF_ST_BIND(s->st_info)) {
	case STB_GLOBAL:
		return 'T';
	case STB_WEAK:
		return 'W';
	default:
		return 't';
	}
}

/* The defined function symbols of every section of type `type`. Returns 1
 * when the file has such a section, 0 when not, or -errno. */
static int add_table(ebpfdsl_symtab *t, Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	int have = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
			continue;
		have = 1;
		data = elf_getdata(scn, NULL);
		n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; data && i < n; i++) {
			GElf_Sym s;
			const char *name;
			int st;
			if (!gelf_getsym(data, (int)i, &s))
				continue;
			st = GELF_ST_TYPE(s.st_info);
			if ((st != STT_FUNC && st != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (ebpfdsl_symtab__add(t, s.st_value, s.st_size, name, NULL, sym_letter(&s)))
				return -ENOMEM;
		}
	}
	return have;
}

/* The GNU build id as lowercase hex, or "" when the file has none. */
static void build_id(Elf *elf, char *hex, size_t len)
{
	Elf_Scn *scn = NULL;
	hex[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0 || nh.n_descsz * 2 + 1 > len)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", d[i]);
			return;
		}
	}
}

/* The .gnu_debuglink file name, or NULL. */
static const char *debuglink(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (strcmp(name, ".gnu_debuglink") != 0 || !(data = elf_getdata(scn, NULL)) || !data->d_size)
			continue;
		if (!memchr(data->d_buf, '\0', data->d_size))
			return NULL;
		return data->d_buf;
	}
	return NULL;
}

/* The .symtab of a separate debug file (Debian's -dbg packages, debuginfod
 * caches laid out the same way): by build id under /usr/lib/debug, else by
 * .gnu_debuglink beside the file, in its .debug directory, or under
 * /usr/lib/debug; a candidate with another build id is not ours. */
static int add_debug_symtab(ebpfdsl_symtab *t, Elf *elf, const char *path)
{
	char id[128], dir[PATH_MAX], tries[4][PATH_MAX];
	const char *link = debuglink(elf), *slash;
	int n = 0;
	build_id(elf, id, sizeof(id));
	if (strlen(id) > 2 &&
	    snprintf(tries[n], PATH_MAX, "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2) < PATH_MAX)
		n++;
	if (link && (slash = strrchr(path, '/')) && (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (snprintf(tries[n], PATH_MAX, "%s/%s", dir, link) < PATH_MAX)
			n++;
		if (snprintf(tries[n], PATH_MAX, "%s/.debug/%s", dir, link) < PATH_MAX)
			n++;
		if (snprintf(tries[n], PATH_MAX, "/usr/lib/debug%s/%s", dir, link) < PATH_MAX)
			n++;
	}
	for (int i = 0; i < n; i++) {
		int fd, r = 0;
		Elf *d;
		char other[128];
		if (strcmp(tries[i], path) == 0 || (fd = open(tries[i], O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		d = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (d && elf_kind(d) == ELF_K_ELF) {
			build_id(d, other, sizeof(other));
			if (!*id || !*other || strcmp(id, other) == 0)
				r = add_table(t, d, SHT_SYMTAB);
		}
		if (d)
			elf_end(d);
		close(fd);
		if (r)
			return r;
	}
	return 0;
}

int ebpfdsl_symtab_elf(const char *path, ebpfdsl_symtab **out, char *err, size_t errlen)
{
	ebpfdsl_symtab *t = NULL;
	Elf *elf = NULL;
	size_t nph = 0;
	int fd, e = 0, r;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ebpfdsl__err(err, errlen, EINVAL, "libelf: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ebpfdsl__err(err, errlen, errno, "symbols: opening %s", path);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ebpfdsl__msg(err, errlen, "symbols: %s is not an ELF file", path);
		e = -ENOEXEC;
		goto out;
	}
	t = ebpfdsl_symtab__new();
	if (!t) {
		e = ebpfdsl__err(err, errlen, ENOMEM, "symbols of %s", path);
		goto out;
	}
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			struct ebpfdsl_symtab_segment s;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			s.vaddr = ph.p_vaddr;
			s.offset = ph.p_offset;
			s.filesz = ph.p_filesz;
			s.memsz = ph.p_memsz;
			s.flags = ph.p_flags;
			if (ebpfdsl_symtab__add_segment(t, &s)) {
				e = ebpfdsl__err(err, errlen, ENOMEM, "symbols of %s", path);
				goto out;
			}
		}
	}
	/* .symtab has the static functions .dynsym lacks; a stripped file
	 * may have them in a separate debug file */
	r = add_table(t, elf, SHT_SYMTAB);
	if (r == 0)
		r = add_debug_symtab(t, elf, path);
	if (r >= 0)
		r = add_table(t, elf, SHT_DYNSYM);
	if (r >= 0)
		r = ebpfdsl_symtab__finish(t);
	if (r < 0)
		e = ebpfdsl__err(err, errlen, -r, "symbols of %s", path);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (e) {
		ebpfdsl_symtab__free(t);
		return e;
	}
	*out = t;
	return 0;
}
