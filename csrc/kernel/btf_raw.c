/* SPDX-License-Identifier: MIT */
/* BTF from bytes (what ebpfdsl_btfw writes) and into the kernel: the fd a
 * map or program takes as its btf_fd, with the kernel's log when refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"

int ebpfdsl_btf_load_raw(const void *data, size_t size, char *log, size_t log_size)
{
	LIBBPF_OPTS(bpf_btf_load_opts, o);
	int fd;

	if (log && log_size) {
		log[0] = '\0';
		o.log_buf = log;
		o.log_size = (__u32)(log_size > UINT32_MAX ? UINT32_MAX : log_size);
		o.log_level = 1;
	}
	fd = bpf_btf_load(data, size, &o);
	if (fd < 0 && errno == ENOSPC && o.log_buf) {
		/* a log that did not fit is no refusal: ask for the errno alone */
		o.log_buf = NULL;
		o.log_size = 0;
		o.log_level = 0;
		fd = bpf_btf_load(data, size, &o);
	}
	return fd < 0 ? -errno : fd;
}

ebpfdsl_btf *ebpfdsl_btf__new_raw(const void *data, size_t size, const char *source)
{
	struct ebpfdsl_btf *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return NULL;
	b->btf = btf__new(data, (__u32)size);
	if (!b->btf) {
		err = errno ? errno : EINVAL;
		free(b);
		errno = err;
		return NULL;
	}
	snprintf(b->source, sizeof(b->source), "%s", source && *source ? source : "bytes");
	b->refs = 1;
	b->nkfuncs = -1;
	return b;
}

int ebpfdsl_btf__load_kernel(ebpfdsl_btf *b, char *log, size_t log_size)
{
	const void *data;
	__u32 size;
	int fd;

	if (b->shared)
		return -EINVAL; /* the kernel's own is there already */
	if (btf__fd(b->btf) >= 0)
		return btf__fd(b->btf);
	data = btf__raw_data(b->btf, &size);
	if (!data)
		return -ENOMEM;
	fd = ebpfdsl_btf_load_raw(data, size, log, log_size);
	if (fd < 0)
		return fd;
	btf__set_fd(b->btf, fd); /* closed by btf__free */
	return fd;
}

int ebpfdsl_btf__fd(const ebpfdsl_btf *b)
{
	int fd = b->btf ? btf__fd(b->btf) : -1; /* the kernel's own (a view) has none */
	return fd < 0 ? -ENOENT : fd;
}
