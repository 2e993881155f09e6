/* SPDX-License-Identifier: MIT */
/* ebpfdsl_link: one object for every kind of attachment. What undoes one
 * (closing a bpf link, a netlink detach, removing a probe) is its kind's
 * ops, in the file that makes that kind; here only what all share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "link.h"

static const char *const kind_names[EBPFDSL_LINK_KIND_COUNT_] = {
	[EBPFDSL_LINK_KPROBE] = "kprobe",
	[EBPFDSL_LINK_KPROBE_MULTI] = "kprobe_multi",
	[EBPFDSL_LINK_UPROBE] = "uprobe",
	[EBPFDSL_LINK_TRACEPOINT] = "tracepoint",
	[EBPFDSL_LINK_RAW_TRACEPOINT] = "raw_tracepoint",
	[EBPFDSL_LINK_TRACING] = "tracing",
	[EBPFDSL_LINK_PERF_EVENT] = "perf_event",
	[EBPFDSL_LINK_XDP] = "xdp",
	[EBPFDSL_LINK_TC] = "tc",
	[EBPFDSL_LINK_SOCKET_FILTER] = "socket_filter",
	[EBPFDSL_LINK_CGROUP] = "cgroup",
	[EBPFDSL_LINK_NETNS] = "netns",
	[EBPFDSL_LINK_ITER] = "iter",
	[EBPFDSL_LINK_PINNED] = "pinned",
	[EBPFDSL_LINK_OBJECT] = "object",
	[EBPFDSL_LINK_SOCKMAP] = "sockmap",
	[EBPFDSL_LINK_STRUCT_OPS] = "struct_ops",
};

const char *ebpfdsl_link_kind_name(int kind)
{
	if (kind < 0 || kind >= EBPFDSL_LINK_KIND_COUNT_)
		return NULL;
	return kind_names[kind];
}

static const char *const newer_link_types[] = { "netfilter", "tcx", "uprobe_multi", "netkit", "sockmap" };
#define NEWER_LINK_FIRST 10

const char *ebpfdsl_link_type_name(int type)
{
	if (type < 0)
		return NULL;
	if (type >= NEWER_LINK_FIRST) {
		size_t i = (size_t)(type - NEWER_LINK_FIRST);
		return i < sizeof(newer_link_types) / sizeof(newer_link_types[0]) ? newer_link_types[i] : NULL;
	}
	return libbpf_bpf_link_type_str((enum bpf_link_type)type);
}

static struct ebpfdsl_link *link_vnew(const struct ebpfdsl_link_ops *ops, size_t size, int kind, const char *fmt,
				      va_list ap)
{
	struct ebpfdsl_link *l = calloc(1, size);
	char buf[512];
	if (!l)
		return NULL;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	l->target = strdup(buf);
	if (!l->target) {
		free(l);
		return NULL;
	}
	l->ops = ops;
	l->kind = kind;
	l->fd = -1;
	return l;
}

struct ebpfdsl_link *ebpfdsl__link_new(int kind, const char *fmt, ...)
{
	struct ebpfdsl_link *l;
	va_list ap;
	va_start(ap, fmt);
	l = link_vnew(NULL, sizeof(*l), kind, fmt, ap);
	va_end(ap);
	return l;
}

struct ebpfdsl_link *ebpfdsl__link_new_ops(const struct ebpfdsl_link_ops *ops, size_t size, int kind, const char *fmt,
					   ...)
{
	struct ebpfdsl_link *l;
	va_list ap;
	if (size < sizeof(*l))
		return NULL;
	va_start(ap, fmt);
	l = link_vnew(ops, size, kind, fmt, ap);
	va_end(ap);
	return l;
}

int ebpfdsl_link__detach(ebpfdsl_link *l)
{
	int err = 0;
	if (!l || l->detached)
		return 0;
	l->detached = 1;
	if (l->ops && l->ops->detach)
		err = l->ops->detach(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	return err;
}

int ebpfdsl_link__detached(const ebpfdsl_link *l)
{
	return !l || l->detached;
}

void ebpfdsl_link__free(ebpfdsl_link *l)
{
	if (!l)
		return;
	ebpfdsl_link__detach(l);
	if (l->ops && l->ops->dealloc)
		l->ops->dealloc(l);
	free(l->target);
	free(l->pin);
	free(l);
}

int ebpfdsl_link__kind(const ebpfdsl_link *l)
{
	return l ? l->kind : -EINVAL;
}

const char *ebpfdsl_link__target(const ebpfdsl_link *l)
{
	return l ? l->target : NULL;
}

int ebpfdsl_link__count(const ebpfdsl_link *l)
{
	if (!l)
		return 0;
	return l->ops && l->ops->count ? l->ops->count(l) : 1;
}

int ebpfdsl_link__fd(const ebpfdsl_link *l)
{
	if (!l || l->detached)
		return -EBADF;
	if (l->ops && l->ops->fd)
		return l->ops->fd(l);
	return l->fd >= 0 ? l->fd : -ENOTSUP;
}

const char *ebpfdsl_link__pin_path(const ebpfdsl_link *l)
{
	return l ? l->pin : NULL;
}

/* appends ", " (after the first part) and the printf text to buf */
static void part(char *buf, size_t len, int *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void part(char *buf, size_t len, int *n, const char *fmt, ...)
{
	size_t at = strlen(buf);
	va_list ap;
	if (*n && at + 2 < len)
		at += (size_t)snprintf(buf + at, len - at, ", ");
	va_start(ap, fmt);
	if (at < len)
		vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
	++*n;
}

const char *ebpfdsl_link__describe(const ebpfdsl_link *l, const char *prog_name, char *buf, size_t len)
{
	int fd = ebpfdsl_link__fd(l), count = ebpfdsl_link__count(l), n = 0;
	if (!len)
		return buf;
	snprintf(buf, len, "%s %s (", ebpfdsl_link_kind_name(l->kind), l->target);
	/* a struct_ops link runs the programs of a map, not one of its own;
	 * without a bpf link, the map's update registered it */
	if (prog_name || l->kind != EBPFDSL_LINK_STRUCT_OPS)
		part(buf, len, &n, "prog '%s'", prog_name ? prog_name : "?");
	else if (fd < 0)
		part(buf, len, &n, "by its update");
	if (fd >= 0)
		part(buf, len, &n, "fd=%d", fd);
	else if (count > 1)
		part(buf, len, &n, "%d attachments", count);
	if (l->pin)
		part(buf, len, &n, "pinned at %s", l->pin);
	if (strlen(buf) + 1 < len)
		strcat(buf, ")");
	return buf;
}

int ebpfdsl_link__pin(ebpfdsl_link *l, const char *path)
{
	int fd = ebpfdsl_link__fd(l), e;
	char *copy;
	if (fd < 0)
		return fd;
	if (!path)
		return -EINVAL;
	if (l->pin)
		return -EBUSY;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	e = ebpfdsl_obj__pin(fd, path); /* mounts /sys/fs/bpf when needed */
	if (e < 0) {
		free(copy);
		return e;
	}
	l->pin = copy;
	return 0;
}

int ebpfdsl_link__unpin(ebpfdsl_link *l)
{
	int e;
	if (!l || !l->pin)
		return -ENOENT;
	/* as every unpin: never a file outside a bpffs, nor another's pin */
	e = ebpfdsl_obj__unpin_own(ebpfdsl_link__fd(l), l->pin);
	if (e < 0)
		return e;
	free(l->pin);
	l->pin = NULL;
	return 0;
}

int ebpfdsl_link_open_pinned(const char *path, ebpfdsl_link **out, char *err, size_t errlen)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	struct ebpfdsl_link *l;
	int found, fd = ebpfdsl_obj__open_kind(path, EBPFDSL_OBJ_LINK, &found);
	if (fd < 0 && found >= 0) {
		if (found == EBPFDSL_OBJ_OTHER)
			ebpfdsl__msg(err, errlen, "open pinned link %s: the pin is not a BPF object", path);
		else
			ebpfdsl__msg(err, errlen, "open pinned link %s: the pin is a %s, not a link", path,
				 ebpfdsl_obj_kind_name(found));
		return fd;
	}
	if (fd < 0)
		return ebpfdsl__err(err, errlen, fd, "open pinned link %s", path);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		int e = errno;
		close(fd);
		return ebpfdsl__err(err, errlen, e, "open pinned link %s: info", path);
	}
	l = ebpfdsl__link_new(EBPFDSL_LINK_PINNED, "%s (%s link)", path,
		     ebpfdsl_link_type_name((int)info.type) ? ebpfdsl_link_type_name((int)info.type) : "unknown");
	if (!l) {
		close(fd);
		return ebpfdsl__err(err, errlen, ENOMEM, "open pinned link %s", path);
	}
	l->fd = fd;
	*out = l;
	return 0;
}

/* bpf_link_info as the running kernel has it: the 6.1 header lacks the
 * perf_event (6.6) and kprobe_multi members; their layout is ABI. */
union link_info_any {
	struct bpf_link_info base;
	struct {
		__u32 type, id, prog_id, pad;
		union {
			struct {
				__u32 type;
				__u32 pad;
				union {
					struct {
						__u64 file_name;
						__u32 name_len, offset;
						__u64 cookie;
					} uprobe;
					struct {
						__u64 func_name;
						__u32 name_len, offset;
						__u64 addr, missed, cookie;
					} kprobe;
					struct {
						__u64 tp_name;
						__u32 name_len, pad;
						__u64 cookie;
					} tracepoint;
					struct {
						__u64 config;
						__u32 type, pad;
						__u64 cookie;
					} event;
				};
			} perf_event;
		};
	} v;
	char room[256];
};

int ebpfdsl_link__info(const ebpfdsl_link *l, struct ebpfdsl_link_info *out)
{
	union link_info_any u;
	__u32 len = sizeof(u);
	int fd = ebpfdsl_link__fd(l);
	struct ebpfdsl_link_info r;

	if (fd < 0)
		return fd;
	if (!out || out->sz < sizeof(out->sz))
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	memset(&r, 0, sizeof(r));
	r.sz = sizeof(r);
	/* first ask for the type, then again with a buffer for its name */
	if (bpf_obj_get_info_by_fd(fd, &u, &len) < 0)
		return -errno;
	r.type = u.base.type;
	r.id = u.base.id;
	r.prog_id = u.base.prog_id;
	memset(&u, 0, sizeof(u));
	len = sizeof(u);
	switch (r.type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		u.base.raw_tracepoint.tp_name = (__u64)(unsigned long)r.name;
		u.base.raw_tracepoint.tp_name_len = sizeof(r.name);
		break;
	case BPF_LINK_TYPE_ITER:
		u.base.iter.target_name = (__u64)(unsigned long)r.name;
		u.base.iter.target_name_len = sizeof(r.name);
		break;
	case BPF_LINK_TYPE_PERF_EVENT:
		/* every variant has its name pointer and length in one place */
		u.v.perf_event.uprobe.file_name = (__u64)(unsigned long)r.name;
		u.v.perf_event.uprobe.name_len = sizeof(r.name);
		break;
	default:
		break;
	}
	if (bpf_obj_get_info_by_fd(fd, &u, &len) < 0) {
		/* older kernels refuse name buffers for perf links: retry bare */
		memset(&u, 0, sizeof(u));
		len = sizeof(u);
		if (bpf_obj_get_info_by_fd(fd, &u, &len) < 0)
			return -errno;
	}
	switch (r.type) {
	case BPF_LINK_TYPE_TRACING:
		r.attach_type = u.base.tracing.attach_type;
		r.target_obj_id = u.base.tracing.target_obj_id;
		r.target_btf_id = u.base.tracing.target_btf_id;
		break;
	case BPF_LINK_TYPE_CGROUP:
		r.cgroup_id = u.base.cgroup.cgroup_id;
		r.attach_type = u.base.cgroup.attach_type;
		break;
	case BPF_LINK_TYPE_ITER:
		r.map_id = u.base.iter.map.map_id;
		break;
	case BPF_LINK_TYPE_NETNS:
		r.netns_ino = u.base.netns.netns_ino;
		r.attach_type = u.base.netns.attach_type;
		break;
	case BPF_LINK_TYPE_XDP:
		r.ifindex = u.base.xdp.ifindex;
		break;
	case BPF_LINK_TYPE_PERF_EVENT:
		r.perf_event_type = u.v.perf_event.type;
		switch (r.perf_event_type) {
		case 1: case 2: /* uprobe, uretprobe */
			r.offset = u.v.perf_event.uprobe.offset;
			r.cookie = u.v.perf_event.uprobe.cookie;
			break;
		case 3: case 4: /* kprobe, kretprobe */
			r.offset = u.v.perf_event.kprobe.offset;
			r.cookie = u.v.perf_event.kprobe.cookie;
			break;
		case 5: /* tracepoint */
			r.cookie = u.v.perf_event.tracepoint.cookie;
			break;
		case 6: /* a perf event */
			r.config = u.v.perf_event.event.config;
			r.cookie = u.v.perf_event.event.cookie;
			r.name[0] = '\0';
			break;
		default:
			r.name[0] = '\0';
		}
		break;
	default:
		break;
	}
	r.name[sizeof(r.name) - 1] = '\0';
	return ebpfdsl_opts_out(out, &r, sizeof(r));
}
