/* SPDX-License-Identifier: MIT */
/* ELF objects built by clang, through libbpf's bpf_object: open, list
 * programs and maps, share maps with DSL programs, load, attach by section.
 * libbpf's messages are captured, never printed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"
#include "link.h"

struct ebpfdsl_object {
	struct bpf_object *obj;
	void *mem; /* our copy of an object opened from memory */
	int loaded;
	size_t nprogs, nmaps;
	struct bpf_program **progs;
	struct bpf_map **maps;
	/* The owner's handle plus one per live link from ebpfdsl_object__attach:
	 * libbpf's links may use the object's memory (usdt keeps its manager
	 * and maps there), so the object closes when the last of them goes. */
	int refs;
	struct ebpfdsl_btf *btf; /* a view of libbpf's BTF of the object */
};

/* libbpf's messages go into the caller's buffer while one of our calls
 * runs (a hush, diag.c), instead of to stderr; with no buffer, nowhere. */

/* ---------------------------------------------------------------------
 * open, free, load
 * --------------------------------------------------------------------- */

static int index_object(struct ebpfdsl_object *o)
{
	struct bpf_program *p;
	struct bpf_map *m;
	size_t i = 0;

	for (p = bpf_object__next_program(o->obj, NULL); p; p = bpf_object__next_program(o->obj, p))
		o->nprogs++;
	for (m = bpf_object__next_map(o->obj, NULL); m; m = bpf_object__next_map(o->obj, m))
		o->nmaps++;
	o->progs = calloc(o->nprogs ? o->nprogs : 1, sizeof(*o->progs));
	o->maps = calloc(o->nmaps ? o->nmaps : 1, sizeof(*o->maps));
	if (!o->progs || !o->maps)
		return -ENOMEM;
	for (p = bpf_object__next_program(o->obj, NULL); p; p = bpf_object__next_program(o->obj, p))
		o->progs[i++] = p;
	i = 0;
	for (m = bpf_object__next_map(o->obj, NULL); m; m = bpf_object__next_map(o->obj, m))
		o->maps[i++] = m;
	return 0;
}

static ebpfdsl_object *finish_open(struct ebpfdsl_object *o, struct ebpfdsl_hush *q)
{
	int err = o->obj ? 0 : (errno ? errno : EINVAL);
	ebpfdsl_hush_end(q, 0);
	if (!err && (err = -index_object(o)) == 0)
		return o;
	ebpfdsl_object__free(o);
	errno = err;
	return NULL;
}

ebpfdsl_object *ebpfdsl_object__open(const char *path, char *msg, size_t msg_size)
{
	struct ebpfdsl_object *o = calloc(1, sizeof(*o));
	struct ebpfdsl_hush q;
	if (!o)
		return NULL;
	o->refs = 1;
	ebpfdsl_hush_begin(&q, msg, msg_size);
	o->obj = bpf_object__open_file(path, NULL);
	return finish_open(o, &q);
}

ebpfdsl_object *ebpfdsl_object__open_mem(const void *data, size_t size, const char *name, char *msg,
					 size_t msg_size)
{
	struct bpf_object_open_opts opts;
	struct ebpfdsl_object *o = calloc(1, sizeof(*o));
	struct ebpfdsl_hush q;
	if (!o)
		return NULL;
	o->refs = 1;
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.object_name = name;
	/* libelf reads the image in place: keep a copy that lives as long
	 * as the object */
	o->mem = malloc(size ? size : 1);
	if (!o->mem) {
		free(o);
		return NULL;
	}
	memcpy(o->mem, data, size);
	ebpfdsl_hush_begin(&q, msg, msg_size);
	o->obj = bpf_object__open_mem(o->mem, size, &opts);
	return finish_open(o, &q);
}

static void object_unref(void *owner)
{
	ebpfdsl_object *o = owner;
	if (--o->refs > 0)
		return;
	bpf_object__close(o->obj);
	free(o->progs);
	free(o->maps);
	free(o->mem);
	free(o->btf);
	free(o);
}

void ebpfdsl_object__free(ebpfdsl_object *o)
{
	if (o)
		object_unref(o);
}

const char *ebpfdsl_object__name(const ebpfdsl_object *o)
{
	return bpf_object__name(o->obj);
}

int ebpfdsl_object__load(ebpfdsl_object *o, char *log, size_t log_size)
{
	struct ebpfdsl_hush q;
	int err;
	if (o->loaded)
		return -EALREADY;
	ebpfdsl_hush_begin(&q, log, log_size);
	err = bpf_object__load(o->obj);
	ebpfdsl_hush_end(&q, 0);
	if (err)
		return err < 0 ? err : -err;
	o->loaded = 1;
	return 0;
}

/* From libbpf's load messages: the verifier's log between its markers
 * (at *off, *len bytes), and the name of the program it belongs to (at
 * *name, *name_len bytes). */
static int split_load_log(const char *msg, size_t *name, size_t *name_len, size_t *off, size_t *len)
{
	const char *b = strstr(msg, "-- BEGIN PROG LOAD LOG --\n");
	const char *e = b ? strstr(b, "-- END PROG LOAD LOG --") : NULL;
	const char *p = b, *q;
	if (!b || !e)
		return 0;
	*off = (size_t)(b - msg) + strlen("-- BEGIN PROG LOAD LOG --\n");
	*len = (size_t)(e - msg) - *off;
	while (p > msg && p[-1] != '\n') /* "libbpf: prog 'x': -- BEGIN..." */
		p--;
	p = strstr(p, "prog '");
	if (!p || p > b || !(q = strchr(p + 6, '\'')))
		return 0;
	*name = (size_t)(p + 6 - msg);
	*name_len = (size_t)(q - (p + 6));
	return 1;
}

int ebpfdsl_object__load_failure(const ebpfdsl_object *o, int err, const char *log, char *why, size_t why_len,
				 size_t *off, size_t *len)
{
	struct ebpfdsl_explain w = { .sz = sizeof(w), .op = "load", .map_type = -1, .index = -1, .prog_type = -1,
				     .attach_type = -1 };
	size_t name, name_len;
	char text[2048], *name_s;
	int pi;

	if (err < 0)
		err = -err;
	if (split_load_log(log, &name, &name_len, off, len)) {
		const struct bpf_insn *insns = NULL;
		size_t cnt = 0;
		char *vlog = strndup(log + *off, *len);
		name_s = strndup(log + name, name_len);
		pi = name_s ? ebpfdsl_object__find_prog(o, name_s) : -ENOMEM;
		if (pi >= 0) {
			insns = bpf_program__insns(o->progs[pi]);
			cnt = bpf_program__insn_cnt(o->progs[pi]);
		}
		ebpfdsl_vlog_explain(vlog ? vlog : "", insns, cnt, NULL, 0, text, sizeof(text));
		ebpfdsl__msg(why, why_len, "program '%s' refused: %s: %s", name_s ? name_s : "?", ebpfdsl_strerror(err),
			     text);
		free(vlog);
		free(name_s);
		return pi < 0 ? -1 : pi;
	}
	/* without the privileges, that is the cause, whatever libbpf's last words */
	if ((err == EPERM || err == EACCES) && ebpfdsl_explain(err, &w, text, sizeof(text)))
		ebpfdsl__msg(why, why_len, "%s", text);
	else
		ebpfdsl_libbpf_reason(log, ebpfdsl_strerror(err), why, why_len);
	*off = *len = 0;
	return -1;
}

struct bpf_object *ebpfdsl__object_libbpf(const ebpfdsl_object *o)
{
	return o->obj;
}

const ebpfdsl_btf *ebpfdsl_object__btf(const ebpfdsl_object *o)
{
	struct ebpfdsl_object *w = (struct ebpfdsl_object *)(uintptr_t)o;
	struct btf *b = bpf_object__btf(o->obj);
	if (!b) {
		errno = ENOENT;
		return NULL;
	}
	if (!w->btf) {
		/* libbpf owns the types; the view is never freed on its own */
		w->btf = calloc(1, sizeof(*w->btf));
		if (!w->btf)
			return NULL;
		w->btf->btf = b;
		w->btf->shared = 1;
		w->btf->refs = 1;
		snprintf(w->btf->source, sizeof(w->btf->source), "object %s", bpf_object__name(o->obj));
	}
	return w->btf;
}

int ebpfdsl_object__loaded(const ebpfdsl_object *o)
{
	return o->loaded;
}

size_t ebpfdsl_object__prog_count(const ebpfdsl_object *o)
{
	return o->nprogs;
}

size_t ebpfdsl_object__map_count(const ebpfdsl_object *o)
{
	return o->nmaps;
}

/* ---------------------------------------------------------------------
 * programs and maps
 * --------------------------------------------------------------------- */

int ebpfdsl_object__prog(const ebpfdsl_object *o, size_t i, struct ebpfdsl_object_prog *p)
{
	const struct bpf_program *prog;
	if (i >= o->nprogs)
		return -ENOENT;
	prog = o->progs[i];
	p->name = bpf_program__name(prog);
	p->section = bpf_program__section_name(prog);
	p->type = (int)bpf_program__type(prog);
	p->expected_attach_type = (int)bpf_program__expected_attach_type(prog);
	/* libbpf says 0 both for "none" and for cgroup_inet_ingress, which
	 * only cgroup_skb programs mean */
	if (!p->expected_attach_type && p->type != BPF_PROG_TYPE_CGROUP_SKB)
		p->expected_attach_type = -1;
	p->insns = bpf_program__insns(prog);
	p->insn_cnt = bpf_program__insn_cnt(prog);
	p->fd = bpf_program__fd(prog);
	if (p->fd < 0)
		p->fd = -1;
	return 0;
}

int ebpfdsl_object__map(const ebpfdsl_object *o, size_t i, struct ebpfdsl_object_map *m)
{
	const struct bpf_map *map;
	if (i >= o->nmaps)
		return -ENOENT;
	map = o->maps[i];
	m->name = bpf_map__name(map);
	m->type = (int)bpf_map__type(map);
	m->type_name = libbpf_bpf_map_type_str(bpf_map__type(map));
	m->key_size = bpf_map__key_size(map);
	m->value_size = bpf_map__value_size(map);
	m->max_entries = bpf_map__max_entries(map);
	m->flags = bpf_map__map_flags(map);
	m->fd = bpf_map__fd(map);
	m->id = 0;
	if (m->fd < 0) {
		m->fd = -1;
	} else {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(m->fd, &info, &len) == 0)
			m->id = info.id;
	}
	return 0;
}

int ebpfdsl_object__find_prog(const ebpfdsl_object *o, const char *name)
{
	for (size_t i = 0; name && i < o->nprogs; i++)
		if (strcmp(bpf_program__name(o->progs[i]), name) == 0)
			return (int)i;
	return -ENOENT;
}

int ebpfdsl_object__find_map(const ebpfdsl_object *o, const char *name)
{
	for (size_t i = 0; name && i < o->nmaps; i++)
		if (strcmp(bpf_map__name(o->maps[i]), name) == 0)
			return (int)i;
	return -ENOENT;
}

int ebpfdsl_object__reuse_map(ebpfdsl_object *o, size_t i, int map_fd)
{
	if (i >= o->nmaps)
		return -ENOENT;
	if (o->loaded)
		return -EBUSY;
	/* libbpf checks the existing map matches the definition, and dups */
	return bpf_map__reuse_fd(o->maps[i], map_fd);
}

int ebpfdsl_object__set_autoload(ebpfdsl_object *o, size_t i, int on)
{
	if (i >= o->nprogs)
		return -ENOENT;
	if (o->loaded)
		return -EBUSY;
	return bpf_program__set_autoload(o->progs[i], on != 0);
}

/* ---------------------------------------------------------------------
 * attach by section name
 * --------------------------------------------------------------------- */

/* libbpf's links are not all one fd: a perf event link also owns the
 * perf event (and a legacy tracefs probe to remove), a usdt link owns
 * several uprobe links and entries in the object's maps, a struct_ops
 * link a map element. Only bpf_link__destroy knows which, so the link
 * keeps the bpf_link itself, and a reference on the object whose memory
 * that link may use, dropped once it is destroyed. */
struct object_link {
	struct ebpfdsl_link link;
	struct bpf_link *bl;
	ebpfdsl_object *owner;
	int is_bpf_link; /* bpf_link__fd is a bpf link of the program */
};

static int object_link_detach(struct ebpfdsl_link *l)
{
	struct object_link *ol = (struct object_link *)(void *)l;
	struct ebpfdsl_hush h;
	int err;
	ebpfdsl_hush_begin(&h, NULL, 0); /* the library never prints */
	err = bpf_link__destroy(ol->bl);
	ebpfdsl_hush_end(&h, 0);
	ol->bl = NULL;
	object_unref(ol->owner);
	return err;
}

static int object_link_fd(const struct ebpfdsl_link *l)
{
	const struct object_link *ol = (const struct object_link *)(const void *)l;
	return ol->is_bpf_link ? bpf_link__fd(ol->bl) : -ENOTSUP;
}

static const struct ebpfdsl_link_ops object_link_ops = { .detach = object_link_detach, .fd = object_link_fd };

/* Whether fd is a bpf link running the program prog_fd: libbpf's own fd
 * field is a perf event fd for ioctl-attached events, and unset (0) for
 * links made of other links (usdt). */
static int is_bpf_link_of(int fd, int prog_fd)
{
	struct bpf_link_info li;
	struct bpf_prog_info pi;
	__u32 llen = sizeof(li), plen = sizeof(pi);
	memset(&li, 0, sizeof(li));
	memset(&pi, 0, sizeof(pi));
	if (fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &pi, &plen) < 0 || bpf_obj_get_info_by_fd(fd, &li, &llen) < 0)
		return 0;
	return li.prog_id == pi.id;
}

/* A link of `kind` taking over bl, which libbpf made for prog_fd (or -1)
 * of o, and holding o; NULL (bl and o untouched) when out of memory. */
static struct ebpfdsl_link *object_link_new(ebpfdsl_object *o, struct bpf_link *bl, int prog_fd, int kind,
					    const char *target)
{
	struct object_link *ol = (struct object_link *)(void *)ebpfdsl__link_new_ops(&object_link_ops, sizeof(*ol),
										    kind, "%s", target);
	if (!ol)
		return NULL;
	ol->bl = bl;
	ol->is_bpf_link = is_bpf_link_of(bpf_link__fd(bl), prog_fd);
	ol->owner = o;
	o->refs++;
	return &ol->link;
}

/* obj:attach (a program, by its section) and obj:register (a struct_ops
 * map: the programs' fds into its value, whose update registers it and,
 * for a map made with BPF_F_LINK, makes a struct_ops link) as one body:
 * libbpf makes the link, hushed into msg; ours wraps it. */
static int object_link(ebpfdsl_object *o, size_t i, int is_map, ebpfdsl_link **out, char *msg, size_t msg_size)
{
	struct bpf_link *bl;
	struct ebpfdsl_link *l = NULL;
	struct ebpfdsl_hush q;
	int err;

	if (msg && msg_size)
		msg[0] = '\0';
	if (i >= (is_map ? o->nmaps : o->nprogs))
		return -ENOENT;
	if (is_map && bpf_map__type(o->maps[i]) != BPF_MAP_TYPE_STRUCT_OPS)
		return -EMEDIUMTYPE;
	if (!o->loaded)
		return -EINVAL;
	ebpfdsl_hush_begin(&q, msg, msg_size);
	bl = is_map ? bpf_map__attach_struct_ops(o->maps[i]) : bpf_program__attach(o->progs[i]);
	err = bl ? 0 : (errno ? errno : EINVAL);
	if (bl && is_map)
		l = object_link_new(o, bl, -1, EBPFDSL_LINK_STRUCT_OPS, bpf_map__name(o->maps[i]));
	else if (bl)
		l = object_link_new(o, bl, bpf_program__fd(o->progs[i]), EBPFDSL_LINK_OBJECT,
				    bpf_program__section_name(o->progs[i]));
	if (bl && !l) {
		bpf_link__destroy(bl);
		err = ENOMEM;
	}
	ebpfdsl_hush_end(&q, 0);
	if (err)
		return -err;
	*out = l;
	return 0;
}

int ebpfdsl_object__attach(ebpfdsl_object *o, size_t i, ebpfdsl_link **out, char *msg, size_t msg_size)
{
	return object_link(o, i, 0, out, msg, msg_size);
}

int ebpfdsl_object__register(ebpfdsl_object *o, size_t i, ebpfdsl_link **out, char *msg, size_t msg_size)
{
	return object_link(o, i, 1, out, msg, msg_size);
}
