/* SPDX-License-Identifier: MIT */
/* Programs in the kernel: loading with the verifier's log (attach targets
 * resolved through BTF), and test runs. Thin over libbpf's bpf_prog_load
 * and bpf_prog_test_run_opts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"

int ebpfdsl_prog_resolve_attach(int type, const char *attach_to, const ebpfdsl_btf *b, int *expected_attach_type,
				unsigned *attach_btf_id)
{
	uint32_t sid;
	int id;

	if (!attach_to || !expected_attach_type || !attach_btf_id)
		return -EINVAL;
	if (!b && !(b = ebpfdsl_btf__vmlinux()))
		return -errno;
	if (type == BPF_PROG_TYPE_STRUCT_OPS) {
		/* the member's index is the program's expected attach type */
		id = ebpfdsl_btf__struct_ops_member(b, attach_to, &sid);
		if (id < 0)
			return id;
		*expected_attach_type = id;
		*attach_btf_id = sid;
		return 0;
	}
	id = ebpfdsl_btf__attach_id(b, *expected_attach_type, attach_to);
	if (id < 0)
		return id;
	*attach_btf_id = (unsigned)id;
	return 0;
}

int ebpfdsl_prog_resolve_attach_err(int type, const char *attach_to, const ebpfdsl_btf *b, int *expected_attach_type,
				    unsigned *attach_btf_id, char *err, size_t len)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_attach_to(type, *expected_attach_type);
	const char *aname = ebpfdsl_attach_type_name(*expected_attach_type);
	char types[256];
	int e;

	if (!d) {
		ebpfdsl_prog_def_target_types(types, sizeof(types));
		ebpfdsl__msg(err, len, "attach_to needs an attach type that attaches to a BTF id (%s), got %s", types,
			     aname ? aname : "none");
		return -EINVAL;
	}
	if (!b && !(b = ebpfdsl_btf__vmlinux()))
		return ebpfdsl__err(err, len, errno, "cannot resolve '%s' without the kernel's BTF", attach_to);
	e = ebpfdsl_prog_resolve_attach(type, attach_to, b, expected_attach_type, attach_btf_id);
	if (e < 0)
		ebpfdsl__msg(err, len, "no %s '%s' in %s BTF", d->target, attach_to, ebpfdsl_btf__source(b));
	return e;
}

void ebpfdsl_prog__load_failure(int err, int type, int attach_type, const char *log, const struct bpf_insn *insns,
				size_t cnt, const struct ebpfdsl_label *labels, size_t nlabels, char *why, size_t len)
{
	/* what the refusal means for this load (explain.c): privileges,
	 * trampolines; else the errno's own text */
	struct ebpfdsl_explain w = { .sz = sizeof(w), .op = "load", .map_type = -1, .index = -1, .prog_type = type,
				     .attach_type = attach_type };
	char what[256], reason[2048];
	if (!ebpfdsl_explain(err < 0 ? -err : err, &w, what, sizeof(what)))
		snprintf(what, sizeof(what), "%s", ebpfdsl_strerror(err));
	if (!log || !*log) {
		ebpfdsl__msg(why, len, "failed: %s", what);
		return;
	}
	ebpfdsl_vlog_explain(log, insns, cnt, labels, nlabels, reason, sizeof(reason));
	ebpfdsl__msg(why, len, "refused: %s: %s", what, reason);
}

/* The program's BTF into the kernel: its fd, or -errno with the kernel's
 * reasons in the log buffer (the program's log never comes: no load). */
static int load_prog_btf(const struct ebpfdsl_prog_load_opts *opts)
{
	return ebpfdsl_btf_load_raw(opts->btf, opts->btf_size, opts->log_buf, opts->log_buf ? opts->log_size : 0);
}

/* One load into the caller's log buffer. */
static int load_once(int type, const struct bpf_insn *insns, size_t cnt, const struct ebpfdsl_prog_load_opts *opts)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	const char *name = NULL, *license = "GPL";
	int fd, err, btf_fd = -1;

	if (opts && opts->log_buf && opts->log_size)
		opts->log_buf[0] = '\0';
	if (opts) {
		name = opts->name;
		if (opts->license)
			license = opts->license;
		o.expected_attach_type = (enum bpf_attach_type)opts->expected_attach_type;
		o.attach_btf_id = opts->attach_btf_id;
		o.prog_flags = opts->prog_flags;
		if (EBPFDSL_OPTS_HAS(opts, attach_prog_fd) && opts->attach_prog_fd > 0)
			o.attach_prog_fd = (unsigned)opts->attach_prog_fd;
		if (EBPFDSL_OPTS_HAS(opts, attach_btf) && opts->attach_to && *opts->attach_to) {
			int eat = opts->expected_attach_type;
			unsigned id;
			err = ebpfdsl_prog_resolve_attach(type, opts->attach_to, opts->attach_btf, &eat, &id);
			if (err < 0)
				return err;
			o.expected_attach_type = (enum bpf_attach_type)eat;
			o.attach_btf_id = id;
		}
		o.log_level = opts->log_level;
		if (opts->log_buf && opts->log_size && opts->log_level) {
			o.log_buf = opts->log_buf;
			o.log_size = (unsigned)opts->log_size;
		}
		if (EBPFDSL_OPTS_HAS(opts, fd_array))
			o.fd_array = opts->fd_array;
		if (EBPFDSL_OPTS_HAS(opts, prog_btf_fd) && (opts->prog_btf_fd > 0 || (opts->btf && opts->btf_size))) {
			if (opts->prog_btf_fd > 0) {
				o.prog_btf_fd = (__u32)opts->prog_btf_fd;
			} else {
				btf_fd = load_prog_btf(opts);
				if (btf_fd < 0)
					return btf_fd;
				o.prog_btf_fd = (__u32)btf_fd;
			}
			if (opts->func_info && opts->func_info_cnt) {
				o.func_info = opts->func_info;
				o.func_info_cnt = opts->func_info_cnt;
				o.func_info_rec_size = sizeof(struct bpf_func_info);
			}
			if (opts->line_info && opts->line_info_cnt) {
				o.line_info = opts->line_info;
				o.line_info_cnt = opts->line_info_cnt;
				o.line_info_rec_size = sizeof(struct bpf_line_info);
			}
		}
	}
	fd = bpf_prog_load((enum bpf_prog_type)type, name, license, insns, cnt, &o);
	if (fd >= 0 || !opts || !opts->log_buf || !opts->log_size || opts->log_level) {
		err = fd < 0 ? -errno : fd;
		if (btf_fd >= 0)
			close(btf_fd); /* the program holds the BTF now */
		return err;
	}
	/* Refused without a log: ask again, this time for the verifier's
	 * reasons, and report the first error seen. */
	err = -errno;
	o.log_level = 1;
	o.log_buf = opts->log_buf;
	o.log_size = (unsigned)opts->log_size;
	fd = bpf_prog_load((enum bpf_prog_type)type, name, license, insns, cnt, &o);
	if (fd >= 0)
		close(fd); /* accepted the second time: report the first refusal */
	else if (errno == ENOSPC)
		err = -ENOSPC; /* the caller grows the buffer and asks again */
	if (btf_fd >= 0)
		close(btf_fd);
	return err;
}

/* The log the load allocates (opts->log_alloc): this big first, four times
 * bigger after each ENOSPC, up to the most the kernel takes in 6.x. */
#define LOG_START (64u * 1024)
#define LOG_MAX (256u * 1024 * 1024)

/* Loads with a log grown until it fits; leaves it in *opts->log_alloc. */
static int load_growing_log(int type, const struct bpf_insn *insns, size_t cnt,
			    const struct ebpfdsl_prog_load_opts *opts)
{
	struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o) };
	char **out = opts->log_alloc;
	size_t size = LOG_START;
	int fd;

	EBPFDSL_OPTS_COPY(o, opts);
	o.log_alloc = NULL;
	*out = NULL;
	for (;;) {
		char *log = malloc(size);
		if (!log)
			return *out ? -ENOSPC : -ENOMEM; /* keep what the last try wrote */
		free(*out);
		*out = log;
		o.log_buf = log;
		o.log_size = size;
		fd = load_once(type, insns, cnt, &o);
		if (fd != -ENOSPC || size >= LOG_MAX)
			return fd;
		size *= 4;
		/* The log did not fit: the program was refused (or the caller
		 * asked for a log). Ask for the log at once on the retries,
		 * which would otherwise verify without one first, every time. */
		if (!o.log_level)
			o.log_level = 1;
	}
}

int ebpfdsl_prog__load(int type, const struct bpf_insn *insns, size_t cnt,
		       const struct ebpfdsl_prog_load_opts *opts)
{
	if (EBPFDSL_OPTS_HAS(opts, log_alloc) && opts->log_alloc)
		return load_growing_log(type, insns, cnt, opts);
	return load_once(type, insns, cnt, opts);
}

int ebpfdsl_prog__test_run(int prog_fd, struct ebpfdsl_test_run *run)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int err;

	o.data_in = run->data_in;
	o.data_size_in = (unsigned)run->data_size_in;
	o.data_out = run->data_out;
	o.data_size_out = (unsigned)run->data_size_out;
	o.ctx_in = run->ctx_in;
	o.ctx_size_in = (unsigned)run->ctx_size_in;
	o.ctx_out = run->ctx_out;
	o.ctx_size_out = (unsigned)run->ctx_size_out;
	o.repeat = (int)run->repeat;
	o.flags = run->flags;
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return -errno;
	run->retval = o.retval;
	run->duration = o.duration;
	run->data_size_out = o.data_size_out;
	run->ctx_size_out = o.ctx_size_out;
	return 0;
}
