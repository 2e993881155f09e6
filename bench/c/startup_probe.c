/* SPDX-License-Identifier: MIT */
/* The C baseline of bench/startup_bench.lua: the same probe as
 * bench/startup_probe.lua written with libbpf alone, printing the
 * CLOCK_MONOTONIC time at which each step was done. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define RSH_IMM(d, i) INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define STX(sz, d, o, s) INSN(BPF_STX | (sz) | BPF_MEM, d, s, o, 0)
#define CALL(h) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, h)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static void stamp(const char *what)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%s %lld\n", what, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* Resident memory now, without the ring's own pages (the kernel's buffer,
 * mapped by every reader alike): what bench/startup_probe.lua prints. */
static void print_rss(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	long kb = 0, total = 0;
	int ring = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' '))
			ring = strstr(line, "anon_inode:bpf-map") != NULL;
		else if (sscanf(line, "Rss: %ld", &kb) == 1 && !ring)
			total += kb;
	}
	fclose(f);
	printf("rss_kb %ld\n", total);
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(int *)ctx;
	return 0;
}

static int fail(const char *what)
{
	fprintf(stderr, "startup_probe: %s: %s\n", what, strerror(errno));
	return 1;
}

static int tracepoint_id(const char *cat, const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256], buf[32];
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		int fd, n;
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], cat, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			return atoi(buf);
		}
	}
	return -1;
}

int main(void)
{
	struct perf_event_attr attr;
	struct ring_buffer *rb;
	int map_fd, prog_fd, pfd, link_fd, id, got = 0;

	map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "startup", 0, 0, 256 * 1024, NULL);
	if (map_fd < 0)
		return fail("bpf_map_create");
	stamp("map_ns");
	{
		/* the program bench/startup_probe.lua builds: one 32-byte event */
		struct bpf_insn insns[] = {
			INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd), INSN(0, 0, 0, 0, 0),
			MOV_IMM(2, 32), MOV_IMM(3, 0), CALL(BPF_FUNC_ringbuf_reserve),
			JEQ_IMM(0, 0, 14),
			MOV_REG(6, 0),
			CALL(BPF_FUNC_ktime_get_ns), STX(BPF_DW, 6, 0, 0),
			CALL(BPF_FUNC_get_current_pid_tgid), STX(BPF_W, 6, 8, 0),
			RSH_IMM(0, 32), STX(BPF_W, 6, 12, 0),
			MOV_REG(1, 6), ADD_IMM(1, 16), MOV_IMM(2, 16), CALL(BPF_FUNC_get_current_comm),
			MOV_REG(1, 6), MOV_IMM(2, 0), CALL(BPF_FUNC_ringbuf_submit),
			MOV_IMM(0, 0), EXIT(),
		};
		prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "startup", "GPL", insns,
					sizeof(insns) / sizeof(insns[0]), NULL);
		if (prog_fd < 0)
			return fail("bpf_prog_load");
	}
	stamp("load_ns");
	id = tracepoint_id("syscalls", "sys_enter_openat");
	if (id < 0)
		return fail("tracepoint syscalls/sys_enter_openat");
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (unsigned)id;
	pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return fail("perf_event_open");
	link_fd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
	if (link_fd < 0)
		return fail("bpf_link_create");
	stamp("attach_ns");
	rb = ring_buffer__new(map_fd, on_event, &got, NULL);
	if (!rb)
		return fail("ring_buffer__new");
	close(open("/dev/null", O_RDONLY | O_CLOEXEC)); /* an openat of our own */
	while (!got)
		if (ring_buffer__poll(rb, 1000) < 0)
			return fail("ring_buffer__poll");
	stamp("event_ns");
	print_rss();
	ring_buffer__free(rb);
	close(link_fd);
	close(pfd);
	close(prog_fd);
	close(map_fd);
	return 0;
}
