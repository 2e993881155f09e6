/* SPDX-License-Identifier: MIT */
/* Batched element access: the kernel's BPF_MAP_*_BATCH commands, and the
 * same contract element by element for map types whose kernel refuses them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "kernel.h"

/* The kernel answers ENOTSUPP (524, kernel-internal) when a map type has
 * no batch operation at all; EOPNOTSUPP and EINVAL come from the generic
 * batch code for types whose elements it cannot walk or delete. */
static int refused(int err)
{
	return ebpfdsl_errno_unsupported(err) || err == -EINVAL;
}

static int want_fallback(const struct ebpfdsl_map_batch *o)
{
	return !o || !o->no_fallback;
}

/* A refusal leaves the count as it was (or zero): nothing was done, so
 * the element-by-element path starts from scratch. A count in between
 * means the kernel did part of the work and failed on an element. */
static int fallback_due(int err, const struct ebpfdsl_map_batch *o, uint32_t count, uint32_t want)
{
	return refused(err) && want_fallback(o) && (count == 0 || count == want);
}

static void set_fallback(struct ebpfdsl_map_batch *o, int v)
{
	if (o)
		o->fallback = v;
}

size_t ebpfdsl_map_value_bytes(int type, uint32_t value_size)
{
	if (ebpfdsl_map_type_percpu(type)) {
		int n = ebpfdsl_num_possible_cpus();
		return ((size_t)value_size + 7) / 8 * 8 * (size_t)(n > 0 ? n : 1);
	}
	return value_size;
}

size_t ebpfdsl_map_batch_cursor_size(uint32_t key_size)
{
	/* hash maps hand out a 4-byte bucket index, arrays and the fallback a key */
	return key_size > 8 ? key_size : 8;
}

/* Walks from the key after `in` (from the first key when NULL), as the
 * kernel's batch does; with `del`, every element read is deleted, so the
 * walk always restarts at the first remaining key. */
static int walk_batch(int fd, int del, const void *in, void *out, void *keys, void *values, uint32_t *count,
		      uint64_t elem_flags)
{
	struct ebpfdsl_map_info info = { .sz = sizeof(info) };
	const void *prev = del ? NULL : in;
	uint32_t n = 0, want = *count;
	size_t ks, vs;
	int err, end = 0;

	err = ebpfdsl_map__info(fd, &info);
	if (err)
		return err;
	ks = info.key_size;
	vs = ebpfdsl_map_value_bytes(info.type, info.value_size);
	*count = 0;
	while (n < want) {
		char *k = (char *)keys + n * ks;
		void *v = (char *)values + n * vs;
		err = ebpfdsl_map__next_key(fd, prev, k);
		if (err == -ENOENT) {
			end = 1;
			break;
		}
		if (err)
			return err;
		if (del) {
			err = ebpfdsl_map__lookup_and_delete(fd, k, v, elem_flags);
			if (refused(err)) { /* types with no lookup_and_delete */
				err = ebpfdsl_map__lookup(fd, k, v, elem_flags);
				if (!err)
					err = ebpfdsl_map__delete(fd, k);
			}
		} else {
			err = ebpfdsl_map__lookup(fd, k, v, elem_flags);
		}
		if (err == -ENOENT) { /* gone since next_key saw it */
			if (!del) {
				memcpy(out, k, ks);
				prev = out;
			}
			continue;
		}
		if (err)
			return err;
		if (!del)
			prev = k;
		n++;
	}
	if (n)
		memcpy(out, (char *)keys + (n - 1) * ks, ks);
	*count = n;
	return end ? -ENOENT : 0;
}

/* lookup_batch and lookup_and_delete_batch: the kernel's command, else
 * (refused, nothing done) the walk element by element */
static int lookup_batch(int fd, int del, const void *in, void *out, void *keys, void *values, uint32_t *count,
			struct ebpfdsl_map_batch *opts)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint32_t want = *count;
	int err;

	o.elem_flags = opts ? opts->elem_flags : 0;
	set_fallback(opts, 0);
	if (del)
		err = bpf_map_lookup_and_delete_batch(fd, (void *)in, out, keys, values, count, &o);
	else
		err = bpf_map_lookup_batch(fd, (void *)in, out, keys, values, count, &o);
	err = err ? -errno : 0;
	if (!fallback_due(err, opts, *count, want))
		return err;
	set_fallback(opts, 1);
	*count = want;
	return walk_batch(fd, del, in, out, keys, values, count, o.elem_flags);
}

int ebpfdsl_map__lookup_batch(int fd, const void *in, void *out, void *keys, void *values, uint32_t *count,
			      struct ebpfdsl_map_batch *opts)
{
	return lookup_batch(fd, 0, in, out, keys, values, count, opts);
}

int ebpfdsl_map__lookup_and_delete_batch(int fd, const void *in, void *out, void *keys, void *values,
					 uint32_t *count, struct ebpfdsl_map_batch *opts)
{
	return lookup_batch(fd, 1, in, out, keys, values, count, opts);
}

int ebpfdsl_map__update_batch(int fd, const void *keys, const void *values, uint32_t *count,
			      struct ebpfdsl_map_batch *opts)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	struct ebpfdsl_map_info info = { .sz = sizeof(info) };
	uint32_t want = *count, i;
	size_t vs;
	int err;

	o.elem_flags = opts ? opts->elem_flags : 0;
	set_fallback(opts, 0);
	err = bpf_map_update_batch(fd, keys, values, count, &o) ? -errno : 0;
	if (!fallback_due(err, opts, *count, want))
		return err;
	set_fallback(opts, 1);
	err = ebpfdsl_map__info(fd, &info);
	if (err)
		return err;
	vs = ebpfdsl_map_value_bytes(info.type, info.value_size);
	for (i = 0; i < want; i++) {
		err = ebpfdsl_map__update(fd, (const char *)keys + i * info.key_size, (const char *)values + i * vs,
					  o.elem_flags);
		if (err)
			break;
	}
	*count = i;
	return err;
}

int ebpfdsl_map__delete_batch(int fd, const void *keys, uint32_t *count, struct ebpfdsl_map_batch *opts)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	struct ebpfdsl_map_info info = { .sz = sizeof(info) };
	uint32_t want = *count, i;
	int err;

	o.elem_flags = opts ? opts->elem_flags : 0;
	set_fallback(opts, 0);
	err = bpf_map_delete_batch(fd, keys, count, &o) ? -errno : 0;
	if (!fallback_due(err, opts, *count, want))
		return err;
	set_fallback(opts, 1);
	err = ebpfdsl_map__info(fd, &info);
	if (err)
		return err;
	for (i = 0; i < want; i++) {
		err = ebpfdsl_map__delete(fd, (const char *)keys + i * info.key_size);
		if (err)
			break;
	}
	*count = i;
	return err;
}
