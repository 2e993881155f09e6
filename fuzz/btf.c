/* SPDX-License-Identifier: MIT */
/* BTF parsing and queries on any file: after libbpf accepts the bytes,
 * every type is flattened, spelled as C, sized, and searched by name, and
 * member paths (the fuzzer's own, and each member's name) are resolved.
 * Every walk must end within the run's timeout: crafted BTF once made
 * offsetof run for ever (fuzz/corpus/btf/self_anon.btf, 75 bytes). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"

#define MAX_TYPES 4096

static void query(const ebpfdsl_btf *b, const char *path)
{
	uint32_t count = ebpfdsl_btf__type_count(b);
	char decl[512];

	for (uint32_t id = 0; id < count && id < MAX_TYPES; id++) {
		struct ebpfdsl_btf_type t;
		struct ebpfdsl_btf_field f;
		if (ebpfdsl_btf__type(b, id, &t))
			continue;
		int n = ebpfdsl_btf__decl(b, id, "x", decl, sizeof(decl));
		FUZZ_CHECK(n < 0 || (size_t)n >= sizeof(decl) || strlen(decl) == (size_t)n, "decl length %d", n);
		ebpfdsl_btf__size(b, id);
		ebpfdsl_btf__skip_mods(b, id);
		if (id && *t.name)
			FUZZ_CHECK(ebpfdsl_btf__find(b, t.name, t.kind) >= 0, "type %u (%s) not found by name", id, t.name);
		for (uint32_t i = 0; i < t.vlen && i < 64; i++) {
			struct ebpfdsl_btf_member m;
			const char *name;
			int64_t value;
			int sgn;
			/* names a path can spell: libbpf takes any string, "com[" too */
			if (ebpfdsl_btf__member(b, id, i, &m) == 0 && *m.name && strlen(m.name) < 200 &&
			    strspn(m.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
				    strlen(m.name)) {
				int e = ebpfdsl_btf__offsetof(b, id, m.name, &f);
				/* a named member of a struct is always found, unless a
				 * same-named one hides in an anonymous member first */
				FUZZ_CHECK(e == 0 || e == -ENOTDIR || e == -ELOOP || e == -E2BIG || e == -EINVAL ||
						   e == -ERANGE,
					   "member %s of type %u: %d", m.name, id, e);
			}
			ebpfdsl_btf__enum_value(b, id, i, &name, &value, &sgn);
		}
		ebpfdsl_btf__offsetof(b, id, path, &f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t plen = (size_t)fuzz_take(&in, 1) % 64;
	char path[80], file[64];
	ebpfdsl_btf *b;
	int fd;

	if (plen > in.n)
		plen = in.n;
	memcpy(path, in.p, plen);
	path[plen] = '\0';
	in.p += plen;
	in.n -= plen;
	fd = memfd_create("btf", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create");
	FUZZ_CHECK(write(fd, in.p, in.n) == (ssize_t)in.n, "write");
	snprintf(file, sizeof(file), "/proc/self/fd/%d", fd);
	b = ebpfdsl_btf__load(file, NULL);
	if (b) {
		query(b, path);
		ebpfdsl_btf__free(b);
	}
	close(fd);
	return 0;
}
