/* SPDX-License-Identifier: MIT */
/* What the attach_*.c files share: the link object's insides, the error
 * line every failure fills, and the perf event plumbing of probes. */
#ifndef EBPFDSL_LINK_H
#define EBPFDSL_LINK_H

#include <sys/types.h>
#include <bpf/libbpf.h>
#include "kernel.h"

/* Kernel constants newer than the 6.1 UAPI headers. */
#ifndef BPF_F_KPROBE_MULTI_RETURN
#define BPF_F_KPROBE_MULTI_RETURN (1U << 0)
#endif

/* One kernel attachment: a bpf link fd or a perf event fd; the perf
 * event behind a BPF_PERF_EVENT link; a tracefs event to remove. */
struct link_part {
	int fd;
	int perf_fd;
	char *event;      /* "p:kprobes/NAME" style name to remove, or NULL */
	char *event_file; /* the tracefs file it was written to */
};

enum link_how {
	HOW_FDS,         /* closing the parts detaches */
	HOW_XDP_NETLINK, /* bpf_xdp_detach of our program only */
	HOW_TC,          /* bpf_tc_detach of our filter */
	HOW_SOCKET,      /* SO_DETACH_BPF if the socket is still there */
	HOW_CGROUP_PROG, /* bpf_prog_detach2 */
	HOW_LIBBPF,      /* bpf_link__destroy of the link libbpf made */
	HOW_MAP_ELEM     /* delete element 0 of target_fd (a struct_ops map
	                  * registered by its update, without a link) */
};

struct ebpfdsl_link {
	int kind;
	int how;
	int bpf_link;  /* parts[0].fd is a bpf link */
	int detached;
	struct link_part *parts;
	int nparts, cap;
	int prog_fd;   /* our dup, for detaches that name the program */
	int target_fd; /* HOW_CGROUP_PROG: owned; HOW_SOCKET: the user's */
	int attach_type;
	int ifindex;
	unsigned xdp_flags;
	unsigned tc_handle, tc_priority;
	int tc_egress;
	dev_t sock_dev;
	ino_t sock_ino;
	char *target;
	char *pin;
	struct bpf_link *libbpf; /* HOW_LIBBPF: owned */
	/* HOW_LIBBPF: called once the libbpf link is destroyed, so the object
	 * that made it (whose memory the link may use) can close after it */
	void (*release)(void *owner);
	void *owner;
};

/* A new link of `kind` aimed at the printf-formatted target; NULL when
 * out of memory. */
struct ebpfdsl_link *ebpfdsl__link_new(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A link of kind EBPFDSL_LINK_OBJECT taking over `bl`, which libbpf
 * made for prog_fd; NULL (bl untouched) when out of memory. */
struct ebpfdsl_link *ebpfdsl__link_from_libbpf(struct bpf_link *bl, int prog_fd, const char *target);
/* Makes link l call release(owner) right after destroying its libbpf link. */
void ebpfdsl__link_set_release(struct ebpfdsl_link *l, void (*release)(void *owner), void *owner);
/* Adds a part; on failure closes fd and perf_fd and returns -ENOMEM. */
int ebpfdsl__link_add(struct ebpfdsl_link *l, int fd, int perf_fd);
/* Fills err (when given) and returns -e; e is an errno of either sign. */
int ebpfdsl__link_err(char *err, size_t len, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* snprintf into err when err is given. */
void ebpfdsl__link_msg(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* tracefs: the mounted directory (/sys/kernel/tracing, mounted there
 * when absent, or the debugfs one); NULL when there is none. */
const char *ebpfdsl__tracefs_dir(void);
/* The dynamic type of a PMU (kprobe, uprobe) from sysfs, or -errno. */
int ebpfdsl__pmu_type(const char *pmu);
/* The config bit of the PMU's "retprobe" format, or -errno. */
int ebpfdsl__pmu_retprobe_bit(const char *pmu);
/* Attaches prog_fd to the perf event pfd: a BPF_PERF_EVENT link with
 * the cookie, else PERF_EVENT_IOC_SET_BPF (no cookie) and enable.
 * Adds the part (taking pfd) or closes pfd; 0 or -errno, with err. */
int ebpfdsl__perf_attach(struct ebpfdsl_link *l, int prog_fd, int pfd, uint64_t cookie, const char *what, char *err,
		size_t errlen);
/* perf_event_open(2). */
int ebpfdsl__perf_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags);

/* Legacy tracefs probes: writes `def` ("p:kprobes/NAME func") to the
 * events file, opens a perf tracepoint event on it, attaches prog_fd;
 * the part removes the event on detach. */
int ebpfdsl__tracefs_probe_attach(struct ebpfdsl_link *l, int prog_fd, const char *events_file, const char *group,
			 const char *name, const char *def, int pid, uint64_t cookie, char *err, size_t errlen);
/* Removes the tracefs dynamic event "group/name" by writing "-:group/name"
 * to the events file at events_path; best effort (an event that cannot
 * be removed stays until reboot). */
void ebpfdsl__tracefs_event_remove(const char *events_path, const char *event);
/* Closes and forgets the last part added (undoing its attachment). */
void ebpfdsl__link_drop_last(struct ebpfdsl_link *l);
/* A fresh event name, unique in this process: "ebpfdsl_<pid>_<n>". */
void ebpfdsl__tracefs_event_name(char *buf, size_t len);

/* A fresh link id for error texts and event names. */
unsigned ebpfdsl__link_seq(void);

#endif
