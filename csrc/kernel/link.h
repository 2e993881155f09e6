/* SPDX-License-Identifier: MIT */
/* The link object every attach_*.c file makes: what all kinds share, and
 * the small table of operations through which each kind undoes itself. */
#ifndef EBPFDSL_LINK_H
#define EBPFDSL_LINK_H

#include <stddef.h>
#include "kernel.h"

/* Kernel constants newer than the 6.1 UAPI headers. */
#ifndef BPF_F_KPROBE_MULTI_RETURN
#define BPF_F_KPROBE_MULTI_RETURN (1U << 0)
#endif

struct ebpfdsl_link;

/* What varies between kinds of attachment, as libbpf's struct bpf_link
 * does it: the file that makes a kind defines one const table for it, and
 * link.c calls only through it. Any entry may be NULL. */
struct ebpfdsl_link_ops {
	/* Undoes the attachment (link.c closes l->fd after it); called once,
	 * also for a link its attach gave up on, so it undoes only what its
	 * state says was done. 0 or -errno. */
	int (*detach)(struct ebpfdsl_link *l);
	/* The one bpf link fd to pin and query, or -errno. NULL: l->fd, or
	 * -ENOTSUP when there is none. */
	int (*fd)(const struct ebpfdsl_link *l);
	/* How many kernel attachments the link holds. NULL: one. */
	int (*count)(const struct ebpfdsl_link *l);
	/* Frees what the kind allocated, after detach. */
	void (*dealloc)(struct ebpfdsl_link *l);
};

/* The part every kind shares. A kind with state of its own embeds this
 * first in a larger struct and allocates it with ebpfdsl__link_new_ops. */
struct ebpfdsl_link {
	const struct ebpfdsl_link_ops *ops; /* NULL: a bpf link fd and nothing else */
	int kind;
	int detached;
	int fd;       /* a bpf link whose closing detaches, or -1 */
	char *target; /* what it is attached to, for messages and tostring */
	char *pin;
};

/* A link of `kind` that is one bpf link fd (l->fd, set by the caller)
 * aimed at the printf-formatted target; NULL when out of memory. */
struct ebpfdsl_link *ebpfdsl__link_new(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a kind with its own ops and a struct of `size` bytes
 * (zeroed, struct ebpfdsl_link first). */
struct ebpfdsl_link *ebpfdsl__link_new_ops(const struct ebpfdsl_link_ops *ops, size_t size, int kind, const char *fmt,
					   ...) __attribute__((format(printf, 4, 5)));
/* Attaches prog_fd to target_fd (a cgroup, a sockmap) as a link of `kind`
 * aimed at the printf-formatted target (attach_prog_attach.c): a bpf link
 * where the kernel makes one, else (EINVAL, EOPNOTSUPP: kernels before
 * cgroup links, 5.7, or sockmap links, 6.10) BPF_PROG_ATTACH with flags,
 * which keeps dups of both fds for detach2 to undo. 0, or -errno with
 * nothing attached. */
int ebpfdsl__prog_attach(int prog_fd, int target_fd, int attach_type, unsigned flags, int kind,
			 struct ebpfdsl_link **out, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
#endif
