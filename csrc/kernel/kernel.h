/* SPDX-License-Identifier: MIT */
/* Internal declarations of csrc/kernel: what its files share. Everything
 * here talks to the kernel through libbpf; nothing here knows Lua. */
#ifndef EBPFDSL_KERNEL_H
#define EBPFDSL_KERNEL_H

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "../ebpfdsl.h"

/* The kernel's own "not supported" errno, which no libc names. */
#define EBPFDSL_ENOTSUPP 524

/* Is e (either sign) one of the kernel's two "not supported" answers? */
static inline int ebpfdsl_errno_unsupported(int e)
{
	return e == EOPNOTSUPP || e == -EOPNOTSUPP || e == EBPFDSL_ENOTSUPP || e == -EBPFDSL_ENOTSUPP;
}

/* diag.c: the one way every csrc/kernel file reports a failure in a
 * caller's buffer. ebpfdsl__err fills err (when given) with the printf
 * text, ": ", and what e (an errno of either sign; ENOTSUPP and libbpf's
 * codes too) means, and returns -e; ebpfdsl__msg is the text alone. */
int ebpfdsl__err(char *err, size_t len, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ebpfdsl__msg(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Options structs grow at the end: does `opts` (with a leading sz) reach
 * as far as `field`? */
#define EBPFDSL_OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field))

/* A caller's options struct (src, NULL for none) into the library's own
 * (dst, dst_size bytes, its defaults set): the fields src->sz covers and
 * dst has; a caller built against a smaller struct is read no further
 * than its sz (0: no field), and dst keeps its own sz. */
static inline void ebpfdsl_opts_copy(void *dst, size_t dst_size, const void *src)
{
	size_t n;
	if (!src)
		return;
	memcpy(&n, src, sizeof(n));
	if (n > dst_size)
		n = dst_size;
	if (n > sizeof(size_t))
		memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t), n - sizeof(size_t));
}
#define EBPFDSL_OPTS_COPY(dst, src) ebpfdsl_opts_copy(&(dst), sizeof(dst), (src))

/* The library's result (src, src_size bytes) into a caller's struct whose
 * sz says how big it is: no more than that is written, and sz then says
 * how much was (no more than src_size). -EINVAL when sz cannot even hold
 * itself. */
static inline int ebpfdsl_opts_out(void *dst, const void *src, size_t src_size)
{
	size_t n;
	memcpy(&n, dst, sizeof(n));
	if (n < sizeof(size_t))
		return -EINVAL;
	if (n > src_size)
		n = src_size;
	memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t), n - sizeof(size_t));
	memcpy(dst, &n, sizeof(n));
	return 0;
}

/* diag.c: libbpf's messages. Every call into libbpf that may print runs
 * inside a hush: its lines go into `buf` as printed (len bytes, kept
 * NUL-terminated) or, with buf NULL, into `own` as one line ("libbpf: "
 * and newlines dropped, "; " between messages), which ebpfdsl_hush_end
 * with `failed` set makes what ebpfdsl_libbpf_said() returns. Hushes nest
 * per thread; begin and end pair up like braces. */
struct ebpfdsl_hush {
	char *buf;
	size_t len, pos;
	char own[256];
	struct ebpfdsl_hush *outer;
};
void ebpfdsl_hush_begin(struct ebpfdsl_hush *h, char *buf, size_t len);
void ebpfdsl_hush_end(struct ebpfdsl_hush *h, int failed);

struct btf;
/* map_btf.c: a loaded BTF describing a key of key_size bytes (an int
 * when 4) and a struct of value_size bytes, for local storage maps. NULL
 * with errno set on failure; the caller frees it with btf__free. */
struct btf *ebpfdsl_map_btf_bytes(unsigned key_size, unsigned value_size, unsigned *key_id,
				  unsigned *value_id);

/* map.c: map types keyed by an index below max_entries (arrays, devmap,
 * cpumap, sockmap...): every index exists, so next_key walks them all, a
 * "delete" empties a slot, and a write past the end is E2BIG. */
int ebpfdsl__map_type_indexed(int type);

struct bpf_object;
/* object.c: libbpf's object behind ours, for object_vars.c. */
struct bpf_object *ebpfdsl__object_libbpf(const ebpfdsl_object *o);

#endif
