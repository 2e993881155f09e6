/* SPDX-License-Identifier: MIT */
/* prog:attach_* (added to ebpfdsl.Prog's methods) and the module functions
 * around them: argument and option checks, then one ebpfdsl_attach_* call. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lua_link.h"
#include "lua_opts.h"
#include "lua_prog.h"
#include "../kernel/attach_kinds.h"

#define ERRLEN 1024

static int prog_fd_of(lua_State *L)
{
	luaL_checkudata(L, 1, EBPFDSL_PROG_CLASS);
	return ebpfdsl_lua_tofd(L, 1, "attach");
}

typedef union ebpfdsl_attach_args A;

/* What the binding reads for an attach kind (csrc/kernel/attach_kinds.h,
 * which has its name and call): its positional arguments (from argument
 * 1, after the prog) and the fields of its options table after them, read
 * by ebpfdsl_lua_opts_read; shape() rewrites the arguments before (a
 * short form), check() sees what was read (which needs which). */
struct attach_row {
	const struct ebpfdsl_lua_opt *args; /* NULL: none */
	const struct ebpfdsl_lua_opt *opts; /* NULL: no options table */
	void (*shape)(lua_State *L);
	void (*check)(lua_State *L, int opts_idx, A *a, const char *what);
	int keep; /* an argument the link keeps alive (the sockmap), or 0 */
};

/* prog:attach_tracepoint("syscalls", "sys_enter_openat"[, {cookie=}])
 * or prog:attach_tracepoint("syscalls/sys_enter_openat"[, {cookie=}]) */
static const struct ebpfdsl_lua_opt tp_args[] = {
	EBPFDSL_OPT_STR(A, "category", tp.cat),
	EBPFDSL_OPT_STR(A, "name", tp.name),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt tp_opts[] = {
	EBPFDSL_OPT_U64(A, "cookie", tp.cookie),
	EBPFDSL_OPT_END,
};
static void tp_shape(lua_State *L)
{
	const char *cat = luaL_checkstring(L, 2), *slash = strchr(cat, '/');
	if (slash && !lua_isstring(L, 3)) {
		lua_pushlstring(L, cat, (size_t)(slash - cat));
		lua_pushstring(L, slash + 1);
		lua_insert(L, 3);
		lua_replace(L, 2);
	}
}

static const struct ebpfdsl_lua_opt raw_args[] = {
	EBPFDSL_OPT_STR(A, "name", raw.name),
	EBPFDSL_OPT_END,
};

/* prog:attach_kprobe(fn[, {offset=, retprobe=, cookie=}]) */
static const struct ebpfdsl_lua_opt kprobe_args[] = {
	EBPFDSL_OPT_STR(A, "function", kprobe.fn),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt kprobe_opts[] = {
	EBPFDSL_OPT_U64(A, "offset", kprobe.o.offset),
	EBPFDSL_OPT_BOOL(A, "retprobe", kprobe.o.retprobe),
	EBPFDSL_OPT_U64(A, "cookie", kprobe.o.cookie),
	EBPFDSL_OPT_END,
};

/* prog:attach_kprobe_multi("tcp_*" | {"f1", "f2"}[, {cookies=, retprobe=,
 *   fallback=true}]): a pattern or a list, cookies per name, read by check */
static const struct ebpfdsl_lua_opt kmulti_args[] = {
	EBPFDSL_OPT_KNOWN("functions"),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt kmulti_opts[] = {
	EBPFDSL_OPT_BOOL(A, "retprobe", kmulti.o.retprobe),
	{ "fallback", EBPFDSL_LUA_OPT_BOOL, offsetof(A, kmulti.fallback), 1, 0, 0, NULL, NULL },
	EBPFDSL_OPT_KNOWN("cookies"),
	EBPFDSL_OPT_END,
};
static void kmulti_shape(lua_State *L)
{
	lua_settop(L, 3); /* check's scratch goes above the arguments */
}
/* Lists as scratch userdata owned by Lua: nothing leaks if a check raises. */
static void kmulti_check(lua_State *L, int oi, A *a, const char *what)
{
	struct ebpfdsl_kprobe_multi_opts *o = &a->kmulti.o;
	size_t n = 0;
	uint64_t *c;
	if (lua_type(L, 2) == LUA_TSTRING) {
		o->pattern = lua_tostring(L, 2);
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		n = (size_t)luaL_len(L, 2);
		luaL_argcheck(L, n > 0, 2, "the list of function names is empty");
		o->syms = lua_newuserdatauv(L, n * sizeof(*o->syms), 0);
		for (size_t i = 0; i < n; i++) {
			if (lua_rawgeti(L, 2, (lua_Integer)i + 1) != LUA_TSTRING)
				luaL_error(L, "%s: name %d is not a string", what, (int)i + 1);
			o->syms[i] = lua_tostring(L, -1); /* kept alive by the table */
			lua_pop(L, 1);
		}
		o->cnt = n;
	}
	if (lua_isnil(L, oi) || lua_getfield(L, oi, "cookies") == LUA_TNIL)
		return;
	if (!o->syms)
		luaL_error(L, "%s: cookies go with a list of names, not a pattern", what);
	luaL_checktype(L, -1, LUA_TTABLE);
	if ((size_t)luaL_len(L, -1) != n)
		luaL_error(L, "%s: %d cookies for %d names", what, (int)luaL_len(L, -1), (int)n);
	o->cookies = c = lua_newuserdatauv(L, n * sizeof(*c), 0);
	for (size_t i = 0; i < n; i++) {
		lua_Integer v = 0;
		lua_rawgeti(L, -2, (lua_Integer)i + 1);
		if (!ebpfdsl_lua_getinteger(L, -1, &v))
			luaL_error(L, "%s: cookie %d is not an integer", what, (int)i + 1);
		c[i] = (uint64_t)v;
		lua_pop(L, 1);
	}
}

/* prog:attach_uprobe{path=, symbol= | offset=, pid=, retprobe=, cookie=} */
static const struct ebpfdsl_lua_opt uprobe_opts[] = {
	EBPFDSL_OPT_STR(A, "path", uprobe.path),
	EBPFDSL_OPT_STR(A, "symbol", uprobe.o.symbol),
	EBPFDSL_OPT_U64(A, "offset", uprobe.o.offset),
	EBPFDSL_OPT_INT(A, "pid", uprobe.o.pid, 0, 0, 0x7fffffff),
	EBPFDSL_OPT_BOOL(A, "retprobe", uprobe.o.retprobe),
	EBPFDSL_OPT_U64(A, "cookie", uprobe.o.cookie),
	EBPFDSL_OPT_U64(A, "ref_ctr_offset", uprobe.o.ref_ctr_offset),
	EBPFDSL_OPT_END,
};
static void table_shape(lua_State *L)
{
	luaL_checktype(L, 2, LUA_TTABLE);
}
static void uprobe_check(lua_State *L, int oi, A *a, const char *what)
{
	if (!a->uprobe.path)
		luaL_error(L, "%s: path= is needed (a file, a library name, or \"c\" for libc)", what);
	lua_pushliteral(L, "offset"); /* offset = 0 is an offset too */
	if (!a->uprobe.o.symbol && lua_rawget(L, oi) == LUA_TNIL)
		luaL_error(L, "%s: symbol= or offset= is needed", what);
}

/* prog:attach_perf_event{event="cpu-clock" | type=, period= | freq=, cpu=, pid=, cookie=,
 *   and EBPFDSL_PERF_EVENT_OPTS's ATTR rows by field name: config=, ...}, or ("cpu-clock") */
#define PERF_ROW(how, kind, f) PERF_ROW_##how(kind, f)
#define PERF_ROW_ATTR(kind, f) EBPFDSL_OPT_##kind(A, #f, perf.o.f),
#define PERF_ROW_HAND(kind, f) /* a row of its own, by hand */
static const struct ebpfdsl_lua_opt perf_opts[] = {
	EBPFDSL_OPT_STR(A, "event", perf.event),
	EBPFDSL_OPT_I64(A, "type", perf.type, -1, -1, UINT32_MAX),
	EBPFDSL_OPT_U64(A, "period", perf.o.sample_period),
	EBPFDSL_OPT_U64(A, "freq", perf.o.sample_freq),
	EBPFDSL_OPT_INT(A, "cpu", perf.o.cpu, -1, 0, 0),
	EBPFDSL_OPT_INT(A, "pid", perf.o.pid, 0, 0, 0),
	EBPFDSL_OPT_U64(A, "cookie", perf.o.cookie),
	EBPFDSL_PERF_EVENT_OPTS(PERF_ROW)
	EBPFDSL_OPT_END,
};
static void perf_shape(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TSTRING) {
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, 2);
		lua_setfield(L, -2, "event");
		lua_replace(L, 2);
	}
	luaL_checktype(L, 2, LUA_TTABLE);
}
static void perf_check(lua_State *L, int oi, A *a, const char *what)
{
	(void)oi;
	if (a->perf.event) {
		if (ebpfdsl_perf_event_parse(a->perf.event, &a->perf.o.type, &a->perf.o.config) < 0)
			luaL_error(L, "%s: unknown event '%s' (cpu-clock, task-clock, page-faults, context-switches, "
				      "cycles, instructions, cache-misses, ...)",
				   what, a->perf.event);
	} else if (a->perf.type < 0) {
		luaL_error(L, "%s: event= or type= and config= are needed", what);
	} else {
		a->perf.o.type = (uint32_t)a->perf.type;
	}
}

/* prog:attach_xdp(ifname[, {mode="generic"|"driver"|"offload", netlink=}]) */
static const struct ebpfdsl_lua_optname xdp_modes[] = {
	{ "any", EBPFDSL_XDP_ANY, 1 },         { "generic", EBPFDSL_XDP_GENERIC, 0 },
	{ "skb", EBPFDSL_XDP_GENERIC, 1 },     { "driver", EBPFDSL_XDP_DRIVER, 0 },
	{ "native", EBPFDSL_XDP_DRIVER, 1 },   { "drv", EBPFDSL_XDP_DRIVER, 1 },
	{ "offload", EBPFDSL_XDP_OFFLOAD, 0 }, { NULL, 0, 0 },
};
static const struct ebpfdsl_lua_opt ifname_xdp[] = {
	EBPFDSL_OPT_STR(A, "ifname", xdp.ifname),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt xdp_opts[] = {
	EBPFDSL_OPT_ENUM(A, "mode", xdp.o.mode, EBPFDSL_XDP_ANY, xdp_modes),
	EBPFDSL_OPT_BOOL(A, "netlink", xdp.o.netlink),
	EBPFDSL_OPT_END,
};

/* prog:attach_tc(ifname, "ingress"|"egress"[, {handle=, priority=}]) */
static const struct ebpfdsl_lua_optname tc_dirs[] = {
	{ "ingress", 0, 0 }, { "egress", 1, 0 }, { NULL, 0, 0 },
};
static const struct ebpfdsl_lua_opt tc_args[] = {
	EBPFDSL_OPT_STR(A, "ifname", tc.ifname),
	EBPFDSL_OPT_ENUM(A, "direction", tc.o.egress, 0, tc_dirs),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt tc_opts[] = {
	EBPFDSL_OPT_U32(A, "handle", tc.o.handle),
	EBPFDSL_OPT_U32(A, "priority", tc.o.priority),
	EBPFDSL_OPT_END,
};

/* prog:attach_socket(fd | socket): an integer fd, or an object with
 * :getfd() (LuaSocket) or :fd() */
static const struct ebpfdsl_lua_opt socket_args[] = {
	EBPFDSL_OPT_FD(A, "socket", socket.sock),
	EBPFDSL_OPT_END,
};

/* prog:attach_iter([{map=, tid=, pid=, cgroup_fd=, order=}]) */
static const struct ebpfdsl_lua_opt iter_opts[] = {
	EBPFDSL_OPT_FD(A, "map", iter.map_fd),
	EBPFDSL_OPT_U32(A, "tid", iter.tid),
	EBPFDSL_OPT_U32(A, "pid", iter.pid),
	EBPFDSL_OPT_INT(A, "cgroup_fd", iter.cgroup_fd, 0, 0, 0),
	EBPFDSL_OPT_U32(A, "order", iter.order),
	EBPFDSL_OPT_END,
};

/* prog:attach_cgroup(path[, attach_type]), prog:attach_netns([path]) (sk_lookup
 * and flow_dissector on a network namespace file, default: our own),
 * prog:attach_sockmap(map[, kind]) (sk_msg, sk_skb on a sockmap or
 * sockhash, which the link keeps): the attach type, from the one named
 * (a short name too) or the program-type row's (csrc/kernel/prog_defs.c). */
static const struct ebpfdsl_lua_opt cgroup_args[] = {
	EBPFDSL_OPT_STR(A, "path", onto.path),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt sockmap_args[] = {
	EBPFDSL_OPT_FD(A, "map", onto.map),
	EBPFDSL_OPT_END,
};
/* the attach type: the one named (a short name too), else the program's */
static void onto_type(lua_State *L, A *a, const char *what, const char *given)
{
	const struct prog *p = lua_touserdata(L, 1);
	char err[256];
	if ((a->onto.type = ebpfdsl_prog_def_attach_type_for(p->type, p->attach_type, what, given, err,
							       sizeof(err))) < 0)
		luaL_error(L, "%s", err);
}
/* cgroup, sockmap: the type may be named after the arguments */
static void onto_check(lua_State *L, int i, A *a, const char *what)
{
	onto_type(L, a, what, luaL_optstring(L, i, NULL));
}
/* attach_netns's one argument, the namespace, is optional */
static void netns_check(lua_State *L, int i, A *a, const char *what)
{
	a->onto.path = luaL_optstring(L, i, NULL);
	onto_type(L, a, what, NULL);
}

/* The regular attach methods, by kind: arguments, options, hooks. */
static const struct attach_row attach_rows[EBPFDSL_ATTACH_KINDS] = {
	[EBPFDSL_ATTACH_TRACEPOINT] = { tp_args, tp_opts, tp_shape, NULL, 0 },
	[EBPFDSL_ATTACH_RAW_TRACEPOINT] = { raw_args, NULL, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_KPROBE] = { kprobe_args, kprobe_opts, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_KRETPROBE] = { kprobe_args, kprobe_opts, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_KPROBE_MULTI] = { kmulti_args, kmulti_opts, kmulti_shape, kmulti_check, 0 },
	[EBPFDSL_ATTACH_UPROBE] = { NULL, uprobe_opts, table_shape, uprobe_check, 0 },
	[EBPFDSL_ATTACH_URETPROBE] = { NULL, uprobe_opts, table_shape, uprobe_check, 0 },
	[EBPFDSL_ATTACH_PERF_EVENT] = { NULL, perf_opts, perf_shape, perf_check, 0 },
	[EBPFDSL_ATTACH_XDP] = { ifname_xdp, xdp_opts, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_TC] = { tc_args, tc_opts, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_SOCKET] = { socket_args, NULL, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_ITER] = { NULL, iter_opts, NULL, NULL, 0 },
	[EBPFDSL_ATTACH_CGROUP] = { cgroup_args, NULL, NULL, onto_check, 0 },
	[EBPFDSL_ATTACH_NETNS] = { NULL, NULL, NULL, netns_check, 0 },
	[EBPFDSL_ATTACH_SOCKMAP] = { sockmap_args, NULL, NULL, onto_check, 2 },
	/* the tracing kinds take nothing: their target was the load's */
};

/* Every regular prog:attach_*: its kind is upvalue 1. */
static int prog_attach(lua_State *L)
{
	int kind = (int)lua_tointeger(L, lua_upvalueindex(1));
	const struct attach_row *r = &attach_rows[kind];
	const char *what = ebpfdsl_attach_kinds[kind].name;
	int fd = prog_fd_of(L), i = 2, e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	A a;

	memset(&a, 0, sizeof(a));
	if (r->shape)
		r->shape(L);
	for (const struct ebpfdsl_lua_opt *p = r->args; p && p->key; p++, i++)
		ebpfdsl_lua_opt_read(L, i, what, p, &a, i);
	if (r->opts)
		ebpfdsl_lua_opts_read(L, i, what, r->opts, &a);
	if (r->check)
		r->check(L, i, &a, what);
	u = ebpfdsl_lua_new_link(L, 1, r->keep);
	e = ebpfdsl_attach_kinds[kind].call(fd, &a, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* attach_type(name) -> number, accepting the short cgroup names too */
static int l_attach_type(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int t = ebpfdsl_attach_type_parse_short(name);
	if (t < 0)
		return luaL_error(L, "unknown attach type '%s'", name);
	lua_pushinteger(L, t);
	return 1;
}

static int l_find_binary(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	char path[4096];
	int e = ebpfdsl_find_binary(name, path, sizeof(path));
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "find '%s'", name);
	lua_pushstring(L, path);
	return 1;
}

/* symbol_offset(path_or_name, symbol) -> file offset, path */
static int l_symbol_offset(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1), *sym = luaL_checkstring(L, 2);
	char path[4096], err[ERRLEN];
	uint64_t off;
	int e = ebpfdsl_find_binary(name, path, sizeof(path));
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "find '%s'", name);
	e = ebpfdsl_elf_symbol_offset(path, sym, &off, err, sizeof(err));
	if (e < 0)
		return ebpfdsl_lua_fail_msg(L, e, err);
	lua_pushinteger(L, (lua_Integer)off);
	lua_pushstring(L, path);
	return 2;
}

/* uprobe_prefetch{path=, symbol= | offset=, pid=, retprobe=,
 * ref_ctr_offset=} -> true | nil, msg, errno: the uprobe's event opened
 * in a thread (ebpfdsl_uprobe_prefetch) for an attach_uprobe of the same
 * to take; uprobe_prefetch_drop() closes those none took, -> how many. */
static int l_uprobe_prefetch(lua_State *L)
{
	char err[ERRLEN];
	A a;
	int e;
	memset(&a, 0, sizeof(a));
	lua_settop(L, 1);
	luaL_checktype(L, 1, LUA_TTABLE);
	ebpfdsl_lua_opts_read(L, 1, "uprobe_prefetch", uprobe_opts, &a);
	uprobe_check(L, 1, &a, "uprobe_prefetch");
	a.uprobe.o.sz = sizeof(a.uprobe.o);
	e = ebpfdsl_uprobe_prefetch(a.uprobe.path, &a.uprobe.o, err, sizeof(err));
	if (e < 0)
		return ebpfdsl_lua_fail_msg(L, e, err);
	lua_pushboolean(L, 1);
	return 1;
}
static int l_uprobe_prefetch_drop(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_uprobe_prefetch_drop());
	return 1;
}
/* A prefetch's thread runs this library's code: when the state closes,
 * it is joined before the library is unloaded. The guard is made after
 * package's table of loaded C libraries, so it is finalized first. */
static int prefetch_guard_gc(lua_State *L)
{
	(void)L;
	ebpfdsl_uprobe_prefetch_drop();
	return 0;
}
static void prefetch_guard(lua_State *L)
{
	lua_newuserdatauv(L, 0, 0);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, prefetch_guard_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_setfield(L, LUA_REGISTRYINDEX, "ebpfdsl.uprobe_prefetch_guard");
}

/* struct_ops_register(map, value) -> Link | nil, msg, errno: element 0
 * of a struct_ops map written with `value` (the kernel's
 * bpf_struct_ops_<name>, program fds in place), and a struct_ops link
 * when the map was made with the "link" flag. The link keeps the map. */
static int l_struct_ops_register(lua_State *L)
{
	int map = ebpfdsl_lua_tofd(L, 1, "struct_ops_register"), e;
	size_t len;
	const char *value = luaL_checklstring(L, 2, &len);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	lua_settop(L, 2);
	u = ebpfdsl_lua_new_link(L, 0, 1);
	e = ebpfdsl_attach_struct_ops(map, value, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* module functions */
static const luaL_Reg attach_functions[] = {
	{ "attach_type", l_attach_type },
	{ "find_binary", l_find_binary },
	{ "symbol_offset", l_symbol_offset },
	{ "elf_symbol_offset", l_symbol_offset }, /* the name ebpfdsl.uprobe asks for */
	{ "struct_ops_register", l_struct_ops_register },
	{ "uprobe_prefetch", l_uprobe_prefetch },
	{ "uprobe_prefetch_drop", l_uprobe_prefetch_drop },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_attach(lua_State *L)
{
	luaL_getmetatable(L, EBPFDSL_PROG_CLASS);
	lua_getfield(L, -1, "__index");
	for (int k = 0; k < EBPFDSL_ATTACH_KINDS; k++) {
		lua_pushinteger(L, k);
		lua_pushcclosure(L, prog_attach, 1);
		lua_setfield(L, -2, ebpfdsl_attach_kinds[k].name);
	}
	lua_pop(L, 2);
	luaL_setfuncs(L, attach_functions, 0);
	prefetch_guard(L);
}
