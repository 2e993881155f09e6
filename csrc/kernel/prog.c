/* SPDX-License-Identifier: MIT */
/* Programs in the kernel: type names, loading with the verifier's log, and
 * test runs. Thin over libbpf's bpf_prog_load and bpf_prog_test_run_opts. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel.h"

/* libbpf's names ("socket_filter") are the kernel's enum names lowercased
 * without the prefix; ask it rather than keep a second list. */
int ebpfdsl_prog_type_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int t = 0; t < 256; t++) {
		const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)t);
		if (s && strcmp(s, name) == 0)
			return t;
	}
	return -ENOENT;
}

const char *ebpfdsl_prog_type_name(int type)
{
	if (type < 0)
		return NULL;
	return libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
}

int ebpfdsl_prog__load(int type, const struct bpf_insn *insns, size_t cnt,
		       const struct ebpfdsl_prog_load_opts *opts)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	const char *name = NULL, *license = "GPL";
	int fd, err;

	if (opts) {
		name = opts->name;
		if (opts->license)
			license = opts->license;
		o.expected_attach_type = (enum bpf_attach_type)opts->expected_attach_type;
		o.attach_btf_id = opts->attach_btf_id;
		o.prog_flags = opts->prog_flags;
		o.log_level = opts->log_level;
		if (opts->log_buf && opts->log_size) {
			opts->log_buf[0] = '\0';
			if (opts->log_level) {
				o.log_buf = opts->log_buf;
				o.log_size = (unsigned)opts->log_size;
			}
		}
	}
	fd = bpf_prog_load((enum bpf_prog_type)type, name, license, insns, cnt, &o);
	if (fd >= 0 || !opts || !opts->log_buf || !opts->log_size || opts->log_level)
		return fd < 0 ? -errno : fd;
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
	return err;
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
