/* SPDX-License-Identifier: MIT */
/* Whole-map operations built on key iteration: counting the keys and
 * clearing a map, each in the way its type allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kernel.h"

#define CHUNK 1024

int ebpfdsl_map__count(int fd, size_t *count)
{
	struct ebpfdsl_map_info info = { .sz = sizeof(info) };
	char *buf;
	size_t n = 0;
	int err, cur = 0;

	err = ebpfdsl_map__info(fd, &info);
	if (err)
		return err;
	buf = malloc(2 * (size_t)(info.key_size ? info.key_size : 1));
	if (!buf)
		return -ENOMEM;
	for (;;) {
		void *next = buf + (size_t)(1 - cur) * info.key_size;
		err = ebpfdsl_map__next_key(fd, n ? buf + (size_t)cur * info.key_size : NULL, next);
		if (err)
			break;
		cur = 1 - cur;
		n++;
	}
	free(buf);
	if (err != -ENOENT)
		return err;
	*count = n;
	return 0;
}

/* Plain arrays cannot delete: their elements are set to zeros. */
static int zero_array(int fd, const struct ebpfdsl_map_info *info)
{
	size_t vs = ebpfdsl_map_value_bytes(info->type, info->value_size);
	uint32_t n = info->max_entries < CHUNK ? info->max_entries : CHUNK;
	uint32_t *keys = malloc(n * sizeof(*keys));
	void *zeros = calloc(n, vs);
	int err = 0;

	if (!keys || !zeros) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t base = 0; base < info->max_entries && !err; base += n) {
		uint32_t cnt = info->max_entries - base < n ? info->max_entries - base : n;
		for (uint32_t i = 0; i < cnt; i++)
			keys[i] = base + i;
		err = ebpfdsl_map__update_batch(fd, keys, zeros, &cnt, NULL);
	}
out:
	free(keys);
	free(zeros);
	return err;
}

static int empty_slots(int fd, const struct ebpfdsl_map_info *info)
{
	for (uint32_t i = 0; i < info->max_entries; i++) {
		int err = ebpfdsl_map__delete(fd, &i);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

static int pop_all(int fd, const struct ebpfdsl_map_info *info)
{
	void *v = malloc(info->value_size ? info->value_size : 1);
	int err;
	if (!v)
		return -ENOMEM;
	do
		err = ebpfdsl_map__lookup_and_delete(fd, NULL, v, 0);
	while (!err);
	free(v);
	return err == -ENOENT ? 0 : err;
}

/* Reads a chunk of keys from the first one, deletes them, and starts
 * again: the map shrinks every round, so this ends, and no key list of
 * the whole map is ever held. */
static int delete_all(int fd, const struct ebpfdsl_map_info *info)
{
	size_t ks = info->key_size;
	char *keys = malloc(CHUNK * ks);
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (;;) {
		uint32_t n = 0;
		while (n < CHUNK) {
			err = ebpfdsl_map__next_key(fd, n ? keys + (n - 1) * ks : NULL, keys + n * ks);
			if (err)
				break;
			n++;
		}
		if (err && err != -ENOENT)
			break;
		if (n == 0) {
			err = 0;
			break;
		}
		uint32_t gone = 0;
		for (uint32_t i = 0; i < n; i++) {
			err = ebpfdsl_map__delete(fd, keys + i * ks);
			if (err && err != -ENOENT)
				goto out;
			gone += !err;
		}
		err = 0;
		if (!gone) { /* keys that cannot be deleted: never loop on them */
			err = -EAGAIN;
			break;
		}
	}
out:
	free(keys);
	return err;
}

int ebpfdsl_map__clear(int fd)
{
	struct ebpfdsl_map_info info = { .sz = sizeof(info) };
	int err = ebpfdsl_map__info(fd, &info);

	if (err)
		return err;
	switch (info.type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return zero_array(fd, &info);
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return pop_all(fd, &info);
	default:
		if (ebpfdsl__map_type_indexed(info.type))
			return empty_slots(fd, &info);
		if (info.key_size == 0)
			return -EOPNOTSUPP; /* bloom filters, ring buffers, arenas: no keys */
		return delete_all(fd, &info);
	}
}
