/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Map: a BPF map, created closed and opened by a create or an open
 * (one idempotent close); info, pins, module functions. Elements are in
 * lua_map_elem.c, batches in lua_map_batch.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lua_map.h"
#include "lua_opts.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

const char *ebpfdsl_map_type_str(const struct map *m)
{
	const char *s = ebpfdsl_map_type_name(m->info.type);
	return s ? s : "?";
}

/* What err means for the operation op on a map of this type and sizes,
 * from the one table (csrc/kernel/explain.c); the errno's text where it
 * has none. */
static const char *map_why(int err, const char *op, int type, uint32_t max, uint32_t vs, int64_t index, char *why,
			   size_t n)
{
	struct ebpfdsl_explain w = { .sz = sizeof(w), .op = op, .map_type = type, .max_entries = max,
				     .value_size = vs, .index = index, .prog_type = -1, .attach_type = -1 };
	const char *text = ebpfdsl_explain(err, &w, why, n);
	return text ? text : ebpfdsl_strerror(err);
}

int ebpfdsl_map_fail_key(lua_State *L, const struct map *m, int err, const char *what, const void *key)
{
	char why[256];
	uint32_t index;
	int64_t i = -1;
	if (err < 0)
		err = -err;
	if (key && m->info.key_size == 4) {
		memcpy(&index, key, 4);
		i = index;
	}
	luaL_pushfail(L);
	lua_pushfstring(L, "%s on %s map '%s': %s", what, ebpfdsl_map_type_str(m), m->info.name,
			map_why(err, what, m->info.type, m->info.max_entries, m->info.value_size, i, why, sizeof(why)));
	lua_pushinteger(L, err);
	return 3;
}

int ebpfdsl_map_fail(lua_State *L, const struct map *m, int err, const char *what)
{
	return ebpfdsl_map_fail_key(L, m, err, what, NULL);
}

/* " hash 'name'", and open: its fd, sizes and CPUs */
static void map_describe(lua_State *L, const void *ud, int open)
{
	const struct map *m = ud;
	char cpus[32] = "";
	if (!open) {
		lua_pushfstring(L, " %s '%s'", ebpfdsl_map_type_str(m), m->info.name);
		return;
	}
	if (m->ncpus)
		snprintf(cpus, sizeof(cpus), " (per CPU, %d CPUs)", m->ncpus);
	lua_pushfstring(L, " %s '%s' fd=%d key_size=%d value_size=%d max_entries=%d%s", ebpfdsl_map_type_str(m),
			m->info.name, m->fd, (int)m->info.key_size, (int)m->info.value_size, (int)m->info.max_entries,
			cpus);
}

/* m:pin(path), m:unpin([path]) failures: "pin at <path> on hash map 'x': why" */
static int map_pin_fail(lua_State *L, const void *ud, int err, const char *path, int pin)
{
	char what[512];
	snprintf(what, sizeof(what), "%s %s%s", pin ? "pin at" : "unpin of", path,
		 pin ? ebpfdsl_lua_pin_hint(err, path) : ebpfdsl_lua_unpin_hint(err, path));
	return ebpfdsl_map_fail(L, ud, err, what);
}

const struct ebpfdsl_lua_handle ebpfdsl_lua_map_handle = { .tname = EBPFDSL_MAP_CLASS, .noun = "map",
							    .describe = map_describe, .pin_uv = MAP_UV_PIN,
							    .pin_fail = map_pin_fail };

/* ------------------------------------------------------------------ */
/* Creating and opening                                                */

/* Maps dropped but not yet collected still hold their fds; the GC only
 * sees their few bytes. When the process runs out of fds, collect once
 * and let the caller try again. */
static int out_of_fds(lua_State *L, int fd)
{
	if (fd != -EMFILE && fd != -ENFILE)
		return 0;
	lua_gc(L, LUA_GCCOLLECT);
	return 1;
}

struct codecs {
	int kcodec, vcodec; /* -1: the default for the map */
	uint32_t ksize, vsize;
	int kgiven, vgiven;
};

/* Reads key= and value= of the table at idx; the layouts stay in it. */
static void parse_codecs(lua_State *L, int idx, struct codecs *c)
{
	c->kcodec = c->vcodec = -1;
	c->kgiven = c->vgiven = 0;
	if (lua_type(L, idx) != LUA_TTABLE)
		return;
	c->kcodec = ebpfdsl_map_parse_codec(L, idx, "key", &c->ksize, &c->kgiven);
	c->vcodec = ebpfdsl_map_parse_codec(L, idx, "value", &c->vsize, &c->vgiven);
}

static int check_codec(lua_State *L, int codec, uint32_t size, const char *what)
{
	switch (codec) {
	case CODEC_UINT:
	case CODEC_SINT:
		if (size != 1 && size != 2 && size != 4 && size != 8)
			return luaL_error(L, "%s: integers need a size of 1, 2, 4 or 8 bytes, the map has %d", what,
					  (int)size);
		break;
	case CODEC_FD:
		if (size != 4 && size != 8)
			return luaL_error(L, "%s: fds need a size of 4 or 8 bytes, the map has %d", what, (int)size);
		break;
	case CODEC_LPM:
		if (size <= 4)
			return luaL_error(L, "%s: lpm keys need more than 4 bytes, the map has %d", what, (int)size);
		break;
	default:
		break;
	}
	return codec;
}

/* Pushes a closed Map; the caller opens it by setting fd and calling
 * fill_from_kernel. Layouts come from the table at spec (or none). */
static struct map *push_closed(lua_State *L, int spec)
{
	struct map *m = ebpfdsl_lua_handle_new(L, &ebpfdsl_lua_map_handle, sizeof(*m), MAP_UV_COUNT);
	lua_newtable(L);
	lua_setiuservalue(L, -2, MAP_UV_KEEP);
	if (spec && lua_type(L, spec) == LUA_TTABLE) {
		static const char *const fields[] = { "key", "value" };
		for (int i = 0; i < 2; i++) {
			if (lua_getfield(L, spec, fields[i]) == LUA_TSTRING) { /* a type name, not a layout */
				lua_pop(L, 1);
				lua_pushnil(L);
			}
			lua_setiuservalue(L, -2, i == 0 ? MAP_UV_KEY_LAYOUT : MAP_UV_VALUE_LAYOUT);
		}
	}
	return m;
}

/* Learns type, sizes, id and name from the kernel, then settles the
 * codecs: the caller's, checked against the kernel's sizes, or defaults. */
static int fill_from_kernel(lua_State *L, struct map *m, const struct codecs *c)
{
	int err;
	m->info.sz = sizeof(m->info);
	if ((err = ebpfdsl_map__info(m->fd, &m->info)) != 0)
		return err;
	m->ncpus = ebpfdsl_map_type_percpu(m->info.type) ? ebpfdsl_num_possible_cpus() : 0;
	if (m->ncpus < 0)
		return m->ncpus;
	m->vbytes = (uint32_t)ebpfdsl_map_value_bytes(m->info.type, m->info.value_size);
	if (c->kgiven && c->ksize != m->info.key_size)
		return luaL_error(L, "key is %d bytes but the %s map's key_size is %d", (int)c->ksize,
				  ebpfdsl_map_type_str(m), (int)m->info.key_size);
	if (c->vgiven && c->vsize != m->info.value_size)
		return luaL_error(L, "value is %d bytes but the %s map's value_size is %d", (int)c->vsize,
				  ebpfdsl_map_type_str(m), (int)m->info.value_size);
	m->kcodec = (uint8_t)check_codec(L, c->kcodec >= 0 && m->info.key_size ? c->kcodec
						: ebpfdsl_map_default_codec(m->info.type, m->info.key_size, 1),
					 m->info.key_size, "key");
	m->vcodec = (uint8_t)check_codec(L, c->vcodec >= 0 && m->info.value_size ? c->vcodec
						: ebpfdsl_map_default_codec(m->info.type, m->info.value_size, 0),
					 m->info.value_size, "value");
	return 0;
}

static uint32_t size_field(lua_State *L, int idx, const char *field, uint32_t implied, int given)
{
	lua_Integer v = ebpfdsl_lua_optint_field(L, idx, field, given ? (lua_Integer)implied : 0);
	if (v < 0 || v > 0xffffffffLL)
		luaL_error(L, "%s must be 0..4294967295, got %I", field, v);
	if (given && (uint32_t)v != implied)
		luaL_error(L, "%s is %I but the %s given is %d bytes", field, v, field[0] == 'k' ? "key" : "value",
			   (int)implied);
	return (uint32_t)v;
}

/* What map_create reads: the C options, and the fields it reads into
 * them by hand. */
struct create_args {
	struct ebpfdsl_map_create_opts o;
	int numa;         /* -1: none */
	const char *sops; /* struct_ops: its name */
};

/* maps.create's fields, one row each: read by their row, or by hand
 * (KNOWN; btf= and kptrs= by maps.lua). The user's table is checked
 * against them first (core.map_create_check): the one list of names. */
#define CREATE_ROW(kind, k, f) EBPFDSL_OPT_##kind(struct create_args, k, o.f)
static const struct ebpfdsl_lua_opt create_rows[] = {
	EBPFDSL_OPT_KNOWN("type"),
	EBPFDSL_OPT_KNOWN("key_size"), /* size_field: against key= */
	EBPFDSL_OPT_KNOWN("value_size"),
	EBPFDSL_OPT_KNOWN("max_entries"),
	CREATE_ROW(STR, "name", name),
	CREATE_ROW(U32, "flags", flags), /* maps.lua: names too */
	CREATE_ROW(FD, "inner_map", inner_map_fd),
	EBPFDSL_OPT_INT(struct create_args, "numa_node", numa, -1, -1, 0x7fffffff),
	CREATE_ROW(U64, "map_extra", map_extra),
	CREATE_ROW(U32, "ifindex", ifindex),
	EBPFDSL_OPT_KNOWN("key"), /* parse_codecs */
	EBPFDSL_OPT_KNOWN("value"),
	EBPFDSL_OPT_STR(struct create_args, "struct_ops", sops),
	EBPFDSL_OPT_INT(struct create_args, "btf_fd", o.btf_fd, 0, 0, 0),
	CREATE_ROW(U32, "btf_key_type_id", btf_key_type_id),
	CREATE_ROW(U32, "btf_value_type_id", btf_value_type_id),
	CREATE_ROW(U32, "btf_vmlinux_value_type_id", btf_vmlinux_value_type_id),
	EBPFDSL_OPT_KNOWN("btf"), /* maps.lua: a BTF for key= and value= layouts */
	EBPFDSL_OPT_KNOWN("kptrs"),
	EBPFDSL_OPT_END,
};

/* map_create{the rows above} -> Map | nil, msg, errno */
static int l_map_create(lua_State *L)
{
	struct create_args a;
	struct ebpfdsl_map_create_opts *o = &a.o;
	struct codecs c;
	const char *tname;
	uint32_t ks, vs, max;
	struct map *m;
	int type, fd, err;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	tname = ebpfdsl_lua_optstr_field(L, 1, "type", NULL, NULL);
	if (!tname)
		return luaL_error(L, "maps.create: type is required (a map type name such as 'hash')");
	type = ebpfdsl_map_type_parse(tname);
	if (type < 0)
		return luaL_error(L, "unknown map type '%s'", tname);
	memset(&a, 0, sizeof(a));
	ebpfdsl_lua_opts_read(L, 1, "maps.create", create_rows, &a);
	o->sz = sizeof(*o);
	o->name = o->name ? o->name : "";
	parse_codecs(L, 1, &c);
	ks = size_field(L, 1, "key_size", c.ksize, c.kgiven);
	vs = size_field(L, 1, "value_size", c.vsize, c.vgiven);
	max = size_field(L, 1, "max_entries", 0, 0);
	if (!ebpfdsl_lua_valid_name(o->name))
		return luaL_error(L, "map name '%s' must be at most %d letters, digits, '_' or '.'", o->name,
				  BPF_OBJ_NAME_LEN - 1);
	if (a.numa >= 0) {
		o->numa_node = a.numa;
		o->flags |= BPF_F_NUMA_NODE;
	}
	if (a.sops) {
		unsigned id, size;
		err = ebpfdsl_struct_ops_type(a.sops, &id, &size);
		if (err)
			return ebpfdsl_lua_fail(L, err, "struct_ops '%s' (bpf_struct_ops_%s in vmlinux BTF)", a.sops,
						a.sops);
		if (vs && vs != size)
			return luaL_error(L, "value_size is %d but struct_ops '%s' is %d bytes", (int)vs, a.sops,
					  (int)size);
		vs = size;
		o->btf_vmlinux_value_type_id = id;
	}

	m = push_closed(L, 1); /* 2: the userdata exists before the fd does */
	m->info.type = type;
	snprintf(m->info.name, sizeof(m->info.name), "%s", o->name);
	fd = ebpfdsl_map__create(type, ks, vs, max, o);
	if (out_of_fds(L, fd))
		fd = ebpfdsl_map__create(type, ks, vs, max, o);
	if (fd < 0) {
		char msg[600], why[256];
		snprintf(msg, sizeof(msg), "create of %s map '%s' (key_size=%u value_size=%u max_entries=%u flags=0x%x): %s",
			 tname, o->name, ks, vs, max, o->flags, map_why(fd, "create", type, max, vs, -1, why, sizeof(why)));
		return ebpfdsl_lua_fail_msg(L, fd, msg);
	}
	m->fd = fd;
	err = fill_from_kernel(L, m, &c);
	if (err)
		return ebpfdsl_map_fail(L, m, err, "info");
	lua_settop(L, 2);
	return 1;
}

/* The Map is pushed closed, with its codecs read, before the fd exists,
 * so that nothing raised afterwards can leak the fd. */
static struct map *open_begin(lua_State *L, int opts, struct codecs *c)
{
	struct map *m;
	parse_codecs(L, opts, c);
	m = push_closed(L, opts);
	snprintf(m->info.name, sizeof(m->info.name), "?");
	return m;
}

static int open_end(lua_State *L, struct map *m, const struct codecs *c, int fd)
{
	int err;
	m->fd = fd;
	err = fill_from_kernel(L, m, c);
	if (err)
		return ebpfdsl_map_fail(L, m, err, "info");
	return 1;
}

/* map_open_pinned(path[, {key=, value=}]) -> Map | nil, msg, errno */
static int l_map_open_pinned(lua_State *L)
{
	struct codecs c;
	struct map *m;
	int fd;
	lua_settop(L, 2);
	ebpfdsl_lua_pin_path(L, 1);
	m = open_begin(L, 2, &c);
	fd = ebpfdsl_lua_open_pin(L, 1, EBPFDSL_OBJ_MAP, "open_pinned");
	if (fd < 0)
		return 3;
	return open_end(L, m, &c, fd);
}

/* map_open_id(id[, {key=, value=}]) -> Map | nil, msg, errno */
static int l_map_open_id(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	struct codecs c;
	struct map *m;
	int fd;
	lua_settop(L, 2);
	if (id <= 0 || id > 0xffffffffLL)
		return luaL_argerror(L, 1, "a map id is 1..4294967295");
	m = open_begin(L, 2, &c);
	fd = ebpfdsl_map__open_id((uint32_t)id);
	if (out_of_fds(L, fd))
		fd = ebpfdsl_map__open_id((uint32_t)id);
	if (fd < 0)
		return ebpfdsl_lua_fail(L, fd, "open_id %d", (int)id);
	return open_end(L, m, &c, fd);
}

/* ------------------------------------------------------------------ */
/* The map itself                                                      */

static int map_type(lua_State *L)
{
	lua_pushstring(L, ebpfdsl_map_type_str(ebpfdsl_map_check(L, 1)));
	return 1;
}

static int map_name(lua_State *L)
{
	lua_pushstring(L, ebpfdsl_map_check(L, 1)->info.name);
	return 1;
}

static int map_id(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_map_check(L, 1)->info.id);
	return 1;
}

/* m:info() -> {type=, id=, key_size=, value_size=, max_entries=, flags=,
 *   name=, map_extra=, ifindex=, btf_*=, frozen=, pinned=} from the kernel */
#define MAP_INFO_U32(k) EBPFDSL_OPT_U32(struct ebpfdsl_map_info, #k, k)
static const struct ebpfdsl_lua_opt map_info_rows[] = {
	EBPFDSL_OPT_NAMED(struct ebpfdsl_map_info, "type", type, ebpfdsl_map_type_name),
	EBPFDSL_OPT_INT(struct ebpfdsl_map_info, "type_id", type, 0, 0, 0),
	MAP_INFO_U32(id),
	MAP_INFO_U32(key_size),
	MAP_INFO_U32(value_size),
	MAP_INFO_U32(max_entries),
	MAP_INFO_U32(flags),
	EBPFDSL_OPT_CHARS(struct ebpfdsl_map_info, "name", name),
	EBPFDSL_OPT_U64(struct ebpfdsl_map_info, "map_extra", map_extra),
	MAP_INFO_U32(ifindex),
	MAP_INFO_U32(btf_id),
	MAP_INFO_U32(btf_key_type_id),
	MAP_INFO_U32(btf_value_type_id),
	MAP_INFO_U32(btf_vmlinux_value_type_id),
	EBPFDSL_OPT_END,
};

static int map_info(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	struct ebpfdsl_map_info info = { .sz = sizeof(info), .frozen = 1 };
	int err = ebpfdsl_map__info(m->fd, &info);
	if (err)
		return ebpfdsl_map_fail(L, m, err, "info");
	lua_createtable(L, 0, 16);
	ebpfdsl_lua_opts_push(L, &info, map_info_rows);
	if (info.frozen >= 0) {
		ebpfdsl_lua_set_bool(L, "frozen", info.frozen);
	}
	if (m->ncpus)
		ebpfdsl_lua_set_int(L, "ncpus", m->ncpus);
	lua_getiuservalue(L, 1, MAP_UV_PIN);
	lua_setfield(L, -2, "pinned");
	return 1;
}

static int map_freeze(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	int err = ebpfdsl_map__freeze(m->fd);
	if (err)
		return ebpfdsl_map_fail(L, m, err, "freeze");
	lua_pushboolean(L, 1);
	return 1;
}

/* m:stack(id[, who]) on stack_trace maps: symbols.map_stack, in Lua, as
 * the symbols it names the frames with. */
static int map_stack(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ebpfdsl.symbols");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "map_stack");
	lua_replace(L, -2);
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static const luaL_Reg map_methods[] = {
	{ "type", map_type },
	{ "name", map_name },
	{ "id", map_id },
	{ "info", map_info },
	{ "freeze", map_freeze },
	{ "stack", map_stack },
	{ NULL, NULL },
};

static const luaL_Reg map_meta[] = {
	{ "__pairs", ebpfdsl_map_pairs },
	{ NULL, NULL },
};

/* ------------------------------------------------------------------ */
/* Module functions                                                    */

static int l_map_types(lua_State *L)
{
	return ebpfdsl_lua_push_names(L, ebpfdsl_map_type_name, 1, EBPFDSL_MAP_TYPE_MAX_);
}

/* map_type_info(name) -> {id=, percpu=} | nil for unknown names; asks
 * the kernel nothing (maps.supported does, through the feature probes) */
static int l_map_type_info(lua_State *L)
{
	int t = ebpfdsl_map_type_parse(luaL_checkstring(L, 1));
	if (t < 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, 0, 2);
	ebpfdsl_lua_set_int(L, "id", t);
	ebpfdsl_lua_set_bool(L, "percpu", ebpfdsl_map_type_percpu(t));
	return 1;
}

/* ringbuf_size_check(n) -> true | false, below (0: none), above */
static int l_ringbuf_size_check(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	uint64_t below = 0, above = 0;
	if (n >= 0 && ebpfdsl_ringbuf_size_check((uint64_t)n, &below, &above) == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (n < 0)
		above = (uint64_t)sysconf(_SC_PAGESIZE);
	lua_pushboolean(L, 0);
	lua_pushinteger(L, (lua_Integer)below);
	lua_pushinteger(L, (lua_Integer)above);
	return 3;
}

static int l_possible_cpus(lua_State *L)
{
	int n = ebpfdsl_num_possible_cpus();
	if (n < 0)
		return ebpfdsl_lua_fail(L, n, "possible CPUs");
	lua_pushinteger(L, n);
	return 1;
}

static int l_bpffs_mount(lua_State *L)
{
	const char *dir = luaL_optstring(L, 1, NULL);
	int err = ebpfdsl_bpffs_mount(dir);
	if (err)
		return ebpfdsl_lua_fail(L, err, "mount of bpffs at %s", dir ? dir : "/sys/fs/bpf");
	lua_pushboolean(L, 1);
	return 1;
}

static int pidfd_fclose(lua_State *L)
{
	luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
	int ok = fclose(p->f) == 0;
	return luaL_fileresult(L, ok, NULL);
}

/* pidfd(pid) -> a file handle on a pidfd (task_storage keys) | nil, msg, errno */
static int l_pidfd(lua_State *L)
{
	lua_Integer pid = luaL_checkinteger(L, 1);
	luaL_Stream *p;
	long fd;
	if (luaL_getmetatable(L, LUA_FILEHANDLE) == LUA_TNIL)
		return luaL_error(L, "pidfd: the io library is not loaded");
	lua_pop(L, 1);
	p = lua_newuserdatauv(L, sizeof(*p), 0);
	p->closef = NULL; /* closed until fdopen succeeds */
	p->f = NULL;
	luaL_setmetatable(L, LUA_FILEHANDLE);
	fd = syscall(SYS_pidfd_open, (int)pid, 0);
	if (fd < 0)
		return ebpfdsl_lua_fail(L, errno, "pidfd_open(%d)", (int)pid);
	p->f = fdopen((int)fd, "r");
	if (!p->f) {
		int e = errno;
		close((int)fd);
		return ebpfdsl_lua_fail(L, e, "fdopen of a pidfd");
	}
	p->closef = pidfd_fclose;
	return 1;
}

/* module functions */
static const luaL_Reg map_functions[] = {
	{ "map_create", l_map_create },
	{ "map_open_pinned", l_map_open_pinned },
	{ "map_open_id", l_map_open_id },
	{ "map_types", l_map_types },
	{ "map_type_info", l_map_type_info },
	{ "ringbuf_size_check", l_ringbuf_size_check },
	{ "possible_cpus", l_possible_cpus },
	{ "bpffs_mount", l_bpffs_mount },
	{ "pidfd", l_pidfd },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_map(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &ebpfdsl_lua_map_handle, map_methods, map_meta);
	luaL_getmetatable(L, EBPFDSL_MAP_CLASS);
	lua_getfield(L, -1, "__index");
	ebpfdsl_lua_map_elem_methods(L);
	ebpfdsl_lua_map_batch_methods(L);
	/* m[k] and m[k] = v tell methods from keys by the method table */
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, ebpfdsl_map_newindex, 1);
	lua_setfield(L, -3, "__newindex");
	lua_pushcclosure(L, ebpfdsl_map_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_setfuncs(L, map_functions, 0);
	ebpfdsl_lua_opts_push_checker(L, "maps.create", create_rows);
	lua_setfield(L, -2, "map_create_check");
}
