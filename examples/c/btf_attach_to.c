/* SPDX-License-Identifier: MIT */
/* Shows the C API without Lua: kernel BTF queries (offsetof through nested
 * members, a function's declaration), loading a tp_btf program by naming
 * its tracepoint, and a verifier refusal explained in our terms.
 * The BTF part runs as any user; loading needs root (or CAP_BPF). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/btf.h>
#include "ebpfdsl.h"

static int assemble(ebpfdsl_asm *a, const struct ebpfdsl_op *ops, size_t n, const struct bpf_insn **insns,
		    size_t *cnt)
{
	for (size_t i = 0; i < n; i++)
		ebpfdsl_asm__emit(a, &ops[i]);
	if (ebpfdsl_asm__finalize(a))
		return -1;
	*insns = ebpfdsl_asm__insns(a, cnt);
	return 0;
}

int main(void)
{
	const ebpfdsl_btf *b = ebpfdsl_btf__vmlinux();
	struct ebpfdsl_btf_field f;
	struct bpf_prog_info info;
	char decl[256], log[65536], why[512];
	const struct bpf_insn *insns;
	size_t cnt;
	int task, fn, fd, err;

	if (!b) {
		printf("no kernel BTF: %s\n", strerror(errno));
		return 0;
	}
	task = ebpfdsl_btf__find(b, "task_struct", BTF_KIND_STRUCT);
	if (task < 0 || ebpfdsl_btf__offsetof(b, (uint32_t)task, "se.vruntime", &f)) {
		fprintf(stderr, "task_struct.se.vruntime not found\n");
		return 1;
	}
	ebpfdsl_btf__decl(b, f.type, "vruntime", decl, sizeof(decl));
	printf("offsetof(struct task_struct, se.vruntime) = %u (%s, %lld bytes)\n", f.byte_offset, decl,
	       (long long)f.size);
	fn = ebpfdsl_btf__find(b, "do_unlinkat", BTF_KIND_FUNC);
	if (fn > 0 && ebpfdsl_btf__decl(b, (uint32_t)fn, NULL, decl, sizeof(decl)) > 0)
		printf("%s\n", decl);

	/* r0 = 0; exit, as a tp_btf program on sched_switch: the row named
	 * "tp_btf" gives its program type and attach type (tracing,
	 * trace_raw_tp), as libbpf's SEC("tp_btf/...") does */
	{
		const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_find("tp_btf");
		struct ebpfdsl_op ok[] = { ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0), ebpfdsl_op_exit() };
		struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o), .name = "c_tp_btf",
						    .expected_attach_type = ebpfdsl_prog_def__attach_type(d),
						    .attach_to = "sched_switch" };
		ebpfdsl_asm *a;
		if (!d) {
			fprintf(stderr, "no program type named tp_btf\n");
			return 1;
		}
		if (ebpfdsl_prog_def__type(d) != BPF_PROG_TYPE_TRACING || o.expected_attach_type != BPF_TRACE_RAW_TP) {
			fprintf(stderr, "the tp_btf row says %s + %s\n", d->prog_type, d->attach_type ? d->attach_type : "none");
			return 1;
		}
		a = ebpfdsl_asm__new(NULL);
		if (!a || assemble(a, ok, 2, &insns, &cnt)) {
			ebpfdsl_asm__free(a);
			return 1;
		}
		fd = ebpfdsl_prog__load(ebpfdsl_prog_def__type(d), insns, cnt, &o);
		ebpfdsl_asm__free(a);
		if (fd == -EPERM || fd == -EACCES) {
			printf("loading needs root: skipped\n");
			return 0;
		}
		if (fd < 0) {
			fprintf(stderr, "tp_btf load failed: %s\n", strerror(-fd));
			return 1;
		}
		err = ebpfdsl_prog__info(fd, &info, NULL, NULL);
		close(fd);
		if (err || (int)info.attach_btf_id != ebpfdsl_btf__attach_id(b, BPF_TRACE_RAW_TP, "sched_switch")) {
			fprintf(stderr, "the kernel attached it elsewhere\n");
			return 1;
		}
		printf("tp_btf program on sched_switch: BTF id %u\n", info.attach_btf_id);
	}

	/* r0 += r2 with r2 never set: refused, and explained */
	{
		struct ebpfdsl_op bad[] = { ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0), ebpfdsl_op_reg(EBPFDSL_OP_ADD, 0, 2),
					    ebpfdsl_op_exit() };
		struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o), .log_buf = log, .log_size = sizeof(log) };
		ebpfdsl_asm *a = ebpfdsl_asm__new(NULL);
		struct ebpfdsl_label labels[] = { { "sum", 1 } };
		if (!a || assemble(a, bad, 3, &insns, &cnt)) {
			ebpfdsl_asm__free(a);
			return 1;
		}
		fd = ebpfdsl_prog__load(BPF_PROG_TYPE_SOCKET_FILTER, insns, cnt, &o);
		if (fd >= 0) {
			fprintf(stderr, "the verifier accepted a read of an unset register\n");
			close(fd);
			ebpfdsl_asm__free(a);
			return 1;
		}
		ebpfdsl_vlog_explain(log, insns, cnt, labels, 1, why, sizeof(why));
		ebpfdsl_asm__free(a);
		printf("refused: %s\n", why);
	}
	return 0;
}
