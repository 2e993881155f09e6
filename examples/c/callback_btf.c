/* SPDX-License-Identifier: MIT */
/* Shows BTF from C with no Lua: a program whose callback bpf_loop runs gets
 * its func_info and line_info from ebpfdsl_prog_btf; a map value laid out
 * with a spin lock gets BTF from the writer; helpers and kfuncs are named
 * as the running kernel names them. Needs root for the kernel part. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/btf.h>
#include "ebpfdsl.h"

static void emit(ebpfdsl_asm *a, struct ebpfdsl_op op)
{
	ebpfdsl_asm__emit(a, &op); /* the first error is kept for finalize */
}

static struct ebpfdsl_op ld_func(int dst, const char *target)
{
	struct ebpfdsl_op op = { .op = EBPFDSL_OP_LD_FUNC, .has = EBPFDSL_HAS_DST | EBPFDSL_HAS_TARGET, .dst = dst,
				 .target = target };
	return op;
}

/* bpf_loop(10, sum, &acc, 0): the callback adds each index to acc */
static int build(ebpfdsl_asm *a, int loop_id)
{
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0));
	emit(a, ebpfdsl_op_mem(EBPFDSL_OP_STX, EBPFDSL_SIZE_DW, 10, 0, -8)); /* acc = 0 */
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 1, 10));
	emit(a, ld_func(2, "sum"));
	emit(a, ebpfdsl_op_reg(EBPFDSL_OP_MOV, 3, 10));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_ADD, 3, -8));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 4, 0));
	emit(a, ebpfdsl_op_call(loop_id));
	emit(a, ebpfdsl_op_mem(EBPFDSL_OP_LDX, EBPFDSL_SIZE_DW, 0, 10, -8));
	emit(a, ebpfdsl_op_exit());
	ebpfdsl_asm__label(a, "sum"); /* long sum(u64 index, u64 *acc) */
	emit(a, ebpfdsl_op_mem(EBPFDSL_OP_LDX, EBPFDSL_SIZE_DW, 3, 2, 0));
	emit(a, ebpfdsl_op_reg(EBPFDSL_OP_ADD, 3, 1));
	emit(a, ebpfdsl_op_mem(EBPFDSL_OP_STX, EBPFDSL_SIZE_DW, 2, 3, 0));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0));
	emit(a, ebpfdsl_op_exit());
	return ebpfdsl_asm__finalize(a);
}

/* struct counter { struct bpf_spin_lock lock; __u64 n; } as map BTF */
static int map_with_lock(char *log, size_t len)
{
	struct ebpfdsl_map_create_opts mo = { .sz = sizeof(mo) };
	ebpfdsl_layout *lock = ebpfdsl_layout__new("bpf_spin_lock", NULL), *v = ebpfdsl_layout__new("counter", NULL);
	ebpfdsl_btfw *w = ebpfdsl_btfw__new();
	const void *bytes;
	size_t size;
	int key, value, btf_fd, fd = -EINVAL;

	ebpfdsl_layout__add_field(lock, "val", EBPFDSL_TYPE_U32, 0);
	ebpfdsl_layout__add_struct(v, "lock", lock, 0);
	ebpfdsl_layout__add_field(v, "n", EBPFDSL_TYPE_U64, 0);
	key = ebpfdsl_btfw__scalar(w, EBPFDSL_TYPE_U32);
	value = ebpfdsl_btfw__layout(w, v, NULL);
	bytes = ebpfdsl_btfw__bytes(w, &size);
	if (!bytes) {
		fprintf(stderr, "btf writer: %s\n", ebpfdsl_btfw__error(w));
	} else if ((btf_fd = ebpfdsl_btf_load_raw(bytes, size, log, len)) < 0) {
		fprintf(stderr, "BTF refused: %s\n%s", strerror(-btf_fd), log);
		fd = btf_fd;
	} else {
		mo.btf_fd = btf_fd;
		mo.btf_key_type_id = (unsigned)key;
		mo.btf_value_type_id = (unsigned)value;
		fd = ebpfdsl_map__create(BPF_MAP_TYPE_ARRAY, 4, (unsigned)ebpfdsl_layout__size(v), 1, &mo);
		close(btf_fd); /* the map holds the BTF now */
	}
	ebpfdsl_btfw__free(w);
	ebpfdsl_layout__free(v);
	ebpfdsl_layout__free(lock);
	return fd;
}

int main(void)
{
	static char log[65536];
	struct ebpfdsl_prog_load_opts opts = { .sz = sizeof(opts), .name = "loop_c", .log_buf = log,
					       .log_size = sizeof(log) };
	struct ebpfdsl_prog_btf_opts bo = { .sz = sizeof(bo), .name = "loop_c" };
	struct ebpfdsl_label labels[4];
	unsigned char data[64] = { 0 };
	struct ebpfdsl_test_run run = { .sz = sizeof(run), .data_in = data, .data_size_in = sizeof(data) };
	ebpfdsl_asm *a = ebpfdsl_asm__new(NULL);
	ebpfdsl_prog_btf *pb;
	const struct bpf_func_info *fi;
	const struct bpf_line_info *li;
	const void *btf;
	size_t cnt, nlabels = 0;
	uint32_t nfi, nli;
	const struct bpf_insn *insns;
	int fd, err, map_fd;

	if (build(a, BPF_FUNC_loop)) {
		fprintf(stderr, "assemble: %s\n", ebpfdsl_asm__error(a));
		return 1;
	}
	insns = ebpfdsl_asm__insns(a, &cnt);
	while (nlabels < 4 && ebpfdsl_asm__label_at(a, nlabels, &labels[nlabels].name, &labels[nlabels].slot) == 0)
		nlabels++;
	bo.labels = labels;
	bo.nlabels = nlabels;
	pb = ebpfdsl_prog_btf__new(insns, cnt, &bo);
	if (!pb || ebpfdsl_prog_btf__error(pb)) {
		fprintf(stderr, "program BTF: %s\n", pb ? ebpfdsl_prog_btf__error(pb) : strerror(errno));
		return 1;
	}
	fi = ebpfdsl_prog_btf__func_info(pb, &nfi);
	li = ebpfdsl_prog_btf__line_info(pb, &nli);
	for (uint32_t i = 0; i < nfi; i++)
		printf("func %s at insn %u\n", ebpfdsl_prog_btf__func_name(pb, i), fi[i].insn_off);
	printf("%u lines\n", nli);

	if (geteuid() != 0) {
		printf("not root: skipping the kernel part\n");
		ebpfdsl_prog_btf__free(pb);
		ebpfdsl_asm__free(a);
		return 0;
	}
	btf = ebpfdsl_prog_btf__btf(pb, &opts.btf_size);
	opts.btf = btf;
	opts.func_info = fi;
	opts.func_info_cnt = nfi;
	opts.line_info = li;
	opts.line_info_cnt = nli;
	fd = ebpfdsl_prog__load(BPF_PROG_TYPE_SOCKET_FILTER, insns, cnt, &opts);
	ebpfdsl_prog_btf__free(pb);
	ebpfdsl_asm__free(a);
	if (fd < 0) {
		fprintf(stderr, "load: %s\n%s", strerror(-fd), log);
		return 1;
	}
	err = ebpfdsl_prog__test_run(fd, &run);
	close(fd);
	if (err || run.retval != 45) {
		fprintf(stderr, "test run: %s, r0 = %u\n", strerror(-err), run.retval);
		return 1;
	}
	printf("bpf_loop ran the callback: r0 = %u\n", run.retval);

	map_fd = map_with_lock(log, sizeof(log));
	if (map_fd < 0) {
		fprintf(stderr, "map with a spin lock: %s\n", strerror(-map_fd));
		return 1;
	}
	close(map_fd);
	printf("a map value with a bpf_spin_lock has BTF\n");

	/* names the kernel knows and the header may not */
	if (ebpfdsl_helpers_load_kernel() > 0)
		printf("cgrp_storage_get is helper %d here\n", ebpfdsl_helper_id("cgrp_storage_get"));
	{
		const ebpfdsl_btf *v = ebpfdsl_btf__vmlinux();
		int id = v ? ebpfdsl_btf__find(v, "bpf_task_acquire", BTF_KIND_FUNC) : -1;
		if (id > 0)
			printf("bpf_task_acquire: BTF id %d, kfunc %s (%d kfuncs)\n", id,
			       ebpfdsl_btf__is_kfunc(v, (uint32_t)id) == 1 ? "yes" : "no", ebpfdsl_btf__kfuncs(v, NULL, 0));
	}
	return 0;
}
