/* SPDX-License-Identifier: MIT */
/* Uprobe events opened ahead of their attach. Registering a uprobe takes
 * the write side of the kernel's dup_mmap_sem, a per-CPU rw-semaphore
 * whose writer first waits for an RCU grace period unless another writer
 * was there moments before: 7-35 ms on this machine, most of a uprobe
 * tool's start. The perf event of a uprobe needs no program, so it can
 * be opened in a thread while the caller builds and loads its programs;
 * the attach then takes the open event. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel.h"
#include "perf.h"
#include "uprobe.h"

struct prefetch {
	struct prefetch *next;
	struct ebpfdsl_uprobe_opts o; /* kind, pid, semaphore; no symbol */
	uint64_t off;
	struct perf_event_attr attr;  /* its config1 points at path */
	pthread_t thread;
	int fd;
	char path[PATH_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct prefetch *pending;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* A forked child has none of the threads: it forgets the list (the
 * events' fds it inherited stay open in it, unused) and releases the
 * lock the parent's fork took. */
static void before_fork(void)
{
	pthread_mutex_lock(&lock);
}
static void after_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}
static void after_fork_child(void)
{
	pending = NULL;
	pthread_mutex_unlock(&lock);
}
static void watch_forks(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static void *open_event(void *arg)
{
	struct prefetch *p = arg;
	p->fd = ebpfdsl__uprobe_open(&p->attr, &p->o);
	return NULL;
}

int ebpfdsl_uprobe_prefetch(const char *binary, const struct ebpfdsl_uprobe_opts *opts, char *err, size_t errlen)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	char at[300];
	int e, type;

	if (!p)
		return ebpfdsl__err(err, errlen, ENOMEM, "uprobe prefetch");
	p->o.sz = sizeof(p->o);
	EBPFDSL_OPTS_COPY(p->o, opts);
	e = ebpfdsl__uprobe_resolve(binary, &p->o, p->path, sizeof(p->path), &p->off, at, sizeof(at), err, errlen);
	p->o.symbol = NULL; /* the caller's string; the offset is resolved */
	if (e < 0)
		goto fail;
	type = ebpfdsl__pmu_type("uprobe");
	if (type < 0) {
		e = ebpfdsl__err(err, errlen, type,
				 "uprobe prefetch: no uprobe PMU (/sys/bus/event_source/devices/uprobe/type); "
				 "the attach goes through tracefs");
		goto fail;
	}
	e = ebpfdsl__uprobe_attr(&p->attr, type, p->path, p->off, &p->o);
	if (e < 0) {
		ebpfdsl__err(err, errlen, e, "uprobe prefetch: the uprobe PMU has no retprobe format");
		goto fail;
	}
	pthread_once(&fork_once, watch_forks);
	/* signals stay with the caller's threads (Ctrl-C reaches the
	 * interpreter, not this one) */
	sigfillset(&all);
	e = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!e) {
		e = pthread_create(&p->thread, NULL, open_event, p);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (e) {
		e = ebpfdsl__err(err, errlen, e, "uprobe prefetch: a thread for %s:%s", p->path, at);
		goto fail;
	}
	pthread_mutex_lock(&lock);
	p->next = pending;
	pending = p;
	pthread_mutex_unlock(&lock);
	return 0;
fail:
	free(p);
	return e;
}

static int same(const struct prefetch *p, const char *path, uint64_t off, const struct ebpfdsl_uprobe_opts *o)
{
	return p->off == off && !p->o.retprobe == !o->retprobe && (p->o.pid > 0 ? p->o.pid : 0) == (o->pid > 0 ? o->pid : 0) &&
	       p->o.ref_ctr_offset == o->ref_ctr_offset && strcmp(p->path, path) == 0;
}

/* Takes the first prefetch matching, off the list; NULL when none. */
static struct prefetch *take(const char *path, uint64_t off, const struct ebpfdsl_uprobe_opts *o)
{
	struct prefetch **at, *p = NULL;

	pthread_mutex_lock(&lock);
	for (at = &pending; *at; at = &(*at)->next) {
		if (same(*at, path, off, o)) {
			p = *at;
			*at = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return p;
}

int ebpfdsl__uprobe_prefetched(const char *path, uint64_t off, const struct ebpfdsl_uprobe_opts *o)
{
	struct prefetch *p;
	int fd = -1;

	/* the first whose open worked: a failed one is freed, the next tried */
	while (fd < 0 && (p = take(path, off, o)) != NULL) {
		pthread_join(p->thread, NULL);
		fd = p->fd;
		free(p);
	}
	return fd;
}

int ebpfdsl_uprobe_prefetch_drop(void)
{
	struct prefetch *p, *next;
	int n = 0;

	pthread_mutex_lock(&lock);
	p = pending;
	pending = NULL;
	pthread_mutex_unlock(&lock);
	for (; p; p = next) {
		next = p->next;
		pthread_join(p->thread, NULL);
		if (p->fd >= 0) {
			close(p->fd);
			n++;
		}
		free(p);
	}
	return n;
}
