/* SPDX-License-Identifier: MIT */
/* A program on a file (cgroup, sockmap): a bpf link where the kernel has
 * one for it, else BPF_PROG_ATTACH, one kind undone by detach2. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "link.h"

/* Our dups of the program's and the target's fds: the caller may close
 * its own, and detach2 names exactly this program on exactly this target. */
struct prog_attach_link {
	struct ebpfdsl_link link;
	int prog_fd, target_fd, attach_type;
	int attached; /* BPF_PROG_ATTACH took it: detach2 undoes */
};

static int prog_attach_detach(struct ebpfdsl_link *l)
{
	struct prog_attach_link *p = (struct prog_attach_link *)(void *)l;
	int err = 0;
	if (p->attached &&
	    bpf_prog_detach2(p->prog_fd, p->target_fd, (enum bpf_attach_type)p->attach_type) < 0)
		err = -errno;
	if (p->prog_fd >= 0)
		close(p->prog_fd);
	if (p->target_fd >= 0)
		close(p->target_fd);
	p->prog_fd = p->target_fd = -1;
	p->attached = 0;
	return err;
}

static const struct ebpfdsl_link_ops prog_attach_ops = { .detach = prog_attach_detach };

int ebpfdsl__prog_attach(int prog_fd, int target_fd, int attach_type, unsigned flags, int kind,
			 struct ebpfdsl_link **out, const char *fmt, ...)
{
	struct prog_attach_link *p;
	char target[512];
	va_list ap;
	int e;

	va_start(ap, fmt);
	vsnprintf(target, sizeof(target), fmt, ap);
	va_end(ap);
	e = bpf_link_create(prog_fd, target_fd, (enum bpf_attach_type)attach_type, NULL);
	if (e >= 0) { /* a bpf link: closing it detaches, nothing else to undo */
		if (!(*out = ebpfdsl__link_new(kind, "%s", target))) {
			close(e);
			return -ENOMEM;
		}
		(*out)->fd = e;
		return 0;
	}
	if (errno != EINVAL && errno != EOPNOTSUPP)
		return -errno;
	p = (struct prog_attach_link *)(void *)ebpfdsl__link_new_ops(&prog_attach_ops, sizeof(*p), kind, "%s",
								      target);
	if (!p)
		return -ENOMEM;
	p->attach_type = attach_type;
	p->prog_fd = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
	p->target_fd = p->prog_fd < 0 ? -1 : fcntl(target_fd, F_DUPFD_CLOEXEC, 3);
	if (p->target_fd < 0) {
		e = errno;
		ebpfdsl_link__free(&p->link);
		return -e;
	}
	/* last, so that nothing above leaves a program attached */
	if (bpf_prog_attach(prog_fd, target_fd, (enum bpf_attach_type)attach_type, flags) < 0) {
		e = errno;
		ebpfdsl_link__free(&p->link);
		return -e;
	}
	p->attached = 1;
	*out = &p->link;
	return 0;
}
