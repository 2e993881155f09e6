// SPDX-License-Identifier: MIT
// The C baseline of make bench's compile figures: opensnoop's probe as one
// writes it for clang (-O2 -target bpf), libbpf's headers and no others.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* syscalls/sys_enter_openat's record */
struct openat_args {
	__u64 common;
	long nr, dfd;
	const char *filename;
	long flags, mode;
};

struct event {
	__u32 site, pid;
	char comm[16];
	char file[256];
};

volatile const __u32 target_pid = 1;

SEC("tracepoint/syscalls/sys_enter_openat")
int opensnoop(struct openat_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (pid != target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 k = 0;
		__u64 *n = bpf_map_lookup_elem(&lost, &k);
		if (n)
			__sync_fetch_and_add(n, 1);
		return 0;
	}
	e->pid = pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->file, sizeof(e->file), ctx->filename);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
