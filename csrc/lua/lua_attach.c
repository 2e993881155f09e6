/* SPDX-License-Identifier: MIT */
/* prog:attach_* (added to ebpfdsl.Prog's methods) and the module functions
 * around them: argument and option checks, then one ebpfdsl_attach_* call. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lua_link.h"

static const char *const PROG = "ebpfdsl.Prog";

#define ERRLEN 1024

static int prog_fd_of(lua_State *L)
{
	luaL_checkudata(L, 1, PROG);
	return ebpfdsl_lua_tofd(L, 1, "attach");
}

static const char *prog_type_of(lua_State *L)
{
	const char *t;
	lua_getfield(L, 1, "type");
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	t = lua_tostring(L, -1);
	lua_pop(L, 1); /* the name is libbpf's static string, still valid */
	return t ? t : "?";
}

/* The Link of a prog:attach_* call: the prog (argument 1) is its user
 * value. */
static ebpfdsl_link **new_link(lua_State *L)
{
	return ebpfdsl_lua_new_link(L, 1, 0);
}

static void check_opts(lua_State *L, int idx, const char *fname, const char *const *allowed)
{
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int ok = 0;
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING)
			for (int i = 0; allowed[i]; i++)
				if (strcmp(allowed[i], lua_tostring(L, -1)) == 0)
					ok = 1;
		if (!ok) {
			lua_pushvalue(L, -1);
			luaL_error(L, "%s: unknown option '%s'", fname, luaL_tolstring(L, -1, NULL));
		}
	}
}

static int opt_bool(lua_State *L, int idx, const char *field)
{
	int v;
	if (lua_isnoneornil(L, idx))
		return 0;
	lua_getfield(L, idx, field);
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static lua_Integer opt_int(lua_State *L, int idx, const char *field, lua_Integer def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	return ebpfdsl_lua_optint_field(L, idx, field, def);
}

static const char *opt_str(lua_State *L, int idx, const char *field)
{
	if (lua_isnoneornil(L, idx))
		return NULL;
	return ebpfdsl_lua_optstr_field(L, idx, field, NULL, NULL);
}

/* prog:attach_tracepoint("syscalls", "sys_enter_openat"[, {cookie=}])
 * or prog:attach_tracepoint("syscalls/sys_enter_openat"[, {cookie=}]) */
static int prog_attach_tracepoint(lua_State *L)
{
	static const char *const allowed[] = { "cookie", NULL };
	int fd = prog_fd_of(L), e, oi;
	const char *cat = luaL_checkstring(L, 2), *name, *slash = strchr(cat, '/');
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	if (slash && !lua_isstring(L, 3)) {
		lua_pushlstring(L, cat, (size_t)(slash - cat));
		lua_replace(L, 2);
		lua_pushstring(L, slash + 1);
		lua_insert(L, 3);
		cat = lua_tostring(L, 2);
	}
	name = luaL_checkstring(L, 3);
	oi = 4;
	check_opts(L, oi, "attach_tracepoint", allowed);
	u = new_link(L);
	e = ebpfdsl_attach_tracepoint(fd, cat, name, (uint64_t)opt_int(L, oi, "cookie", 0), &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

static int prog_attach_raw_tracepoint(lua_State *L)
{
	int fd = prog_fd_of(L), e;
	const char *name = luaL_checkstring(L, 2);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u = new_link(L);
	e = ebpfdsl_attach_raw_tracepoint(fd, name, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_tracing(): fentry, fexit, fmod_ret, lsm at the target the
 * program was loaded for */
static int prog_attach_tracing(lua_State *L)
{
	int fd = prog_fd_of(L), e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u = new_link(L);
	e = ebpfdsl_attach_tracing(fd, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

static int attach_kprobe(lua_State *L, int ret)
{
	static const char *const allowed[] = { "offset", "retprobe", "cookie", NULL };
	int fd = prog_fd_of(L), e;
	const char *fn = luaL_checkstring(L, 2);
	struct ebpfdsl_kprobe_opts o = { .sz = sizeof(o) };
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	check_opts(L, 3, ret ? "attach_kretprobe" : "attach_kprobe", allowed);
	o.offset = (uint64_t)opt_int(L, 3, "offset", 0);
	o.retprobe = ret || opt_bool(L, 3, "retprobe");
	o.cookie = (uint64_t)opt_int(L, 3, "cookie", 0);
	u = new_link(L);
	e = ebpfdsl_attach_kprobe(fd, fn, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

static int prog_attach_kprobe(lua_State *L)
{
	return attach_kprobe(L, 0);
}

static int prog_attach_kretprobe(lua_State *L)
{
	return attach_kprobe(L, 1);
}

/* prog:attach_kprobe_multi("tcp_*" | {"f1", "f2"}[, {cookies=, retprobe=,
 *   fallback=true}]) */
static int prog_attach_kprobe_multi(lua_State *L)
{
	static const char *const allowed[] = { "cookies", "retprobe", "fallback", NULL };
	struct ebpfdsl_kprobe_multi_opts o = { .sz = sizeof(o) };
	int fd = prog_fd_of(L), e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	size_t n = 0;

	lua_settop(L, 3); /* scratch goes above the arguments */
	check_opts(L, 3, "attach_kprobe_multi", allowed);
	o.retprobe = opt_bool(L, 3, "retprobe");
	if (!lua_isnoneornil(L, 3)) {
		lua_getfield(L, 3, "fallback");
		o.no_fallback = !lua_isnil(L, -1) && !lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	if (lua_type(L, 2) == LUA_TSTRING) {
		o.pattern = lua_tostring(L, 2);
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		n = (size_t)luaL_len(L, 2);
		luaL_argcheck(L, n > 0, 2, "the list of function names is empty");
		/* scratch owned by Lua: nothing leaks if a check raises */
		o.syms = lua_newuserdatauv(L, n * sizeof(*o.syms), 0);
		for (size_t i = 0; i < n; i++) {
			if (lua_rawgeti(L, 2, (lua_Integer)i + 1) != LUA_TSTRING)
				return luaL_error(L, "attach_kprobe_multi: name %d is not a string", (int)i + 1);
			o.syms[i] = lua_tostring(L, -1); /* kept alive by the table */
			lua_pop(L, 1);
		}
		o.cnt = n;
	}
	if (!lua_isnoneornil(L, 3) && lua_getfield(L, 3, "cookies") != LUA_TNIL) {
		uint64_t *c;
		if (!o.syms)
			return luaL_error(L, "attach_kprobe_multi: cookies go with a list of names, not a pattern");
		luaL_checktype(L, -1, LUA_TTABLE);
		if ((size_t)luaL_len(L, -1) != n)
			return luaL_error(L, "attach_kprobe_multi: %d cookies for %d names", (int)luaL_len(L, -1), (int)n);
		c = lua_newuserdatauv(L, n * sizeof(*c), 0);
		for (size_t i = 0; i < n; i++) {
			lua_Integer v;
			lua_rawgeti(L, -2, (lua_Integer)i + 1);
			if (!ebpfdsl_lua_getinteger(L, -1, &v))
				return luaL_error(L, "attach_kprobe_multi: cookie %d is not an integer", (int)i + 1);
			c[i] = (uint64_t)v;
			lua_pop(L, 1);
		}
		o.cookies = c;
	}
	u = new_link(L);
	e = ebpfdsl_attach_kprobe_multi(fd, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_uprobe{path=, symbol= | offset=, pid=, retprobe=, cookie=} */
static int attach_uprobe(lua_State *L, int ret)
{
	static const char *const allowed[] = { "path", "symbol", "offset", "pid", "retprobe", "cookie", NULL };
	struct ebpfdsl_uprobe_opts o = { .sz = sizeof(o) };
	const char *fname = ret ? "attach_uretprobe" : "attach_uprobe", *path;
	int fd = prog_fd_of(L), e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	lua_Integer pid;
	int has_offset;

	luaL_checktype(L, 2, LUA_TTABLE);
	check_opts(L, 2, fname, allowed);
	path = opt_str(L, 2, "path");
	if (!path)
		return luaL_error(L, "%s: path= is needed (a file, a library name, or \"c\" for libc)", fname);
	o.symbol = opt_str(L, 2, "symbol");
	o.offset = (uint64_t)opt_int(L, 2, "offset", 0);
	lua_pushliteral(L, "offset"); /* offset = 0 is an offset too */
	has_offset = lua_rawget(L, 2) != LUA_TNIL;
	lua_pop(L, 1);
	pid = opt_int(L, 2, "pid", 0);
	if (pid < 0 || pid > 0x7fffffff)
		return luaL_error(L, "%s: pid must be a process id", fname);
	o.pid = (int)pid;
	o.retprobe = ret || opt_bool(L, 2, "retprobe");
	o.cookie = (uint64_t)opt_int(L, 2, "cookie", 0);
	if (!o.symbol && !has_offset)
		return luaL_error(L, "%s: symbol= or offset= is needed", fname);
	u = new_link(L);
	e = ebpfdsl_attach_uprobe(fd, path, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

static int prog_attach_uprobe(lua_State *L)
{
	return attach_uprobe(L, 0);
}

static int prog_attach_uretprobe(lua_State *L)
{
	return attach_uprobe(L, 1);
}

/* prog:attach_perf_event{event="cpu-clock" | type=, config=,
 *   period= | freq=, cpu=, pid=, cookie=} */
static int prog_attach_perf_event(lua_State *L)
{
	static const char *const allowed[] = { "event", "type", "config", "period", "freq", "cpu", "pid",
					       "cookie", NULL };
	struct ebpfdsl_perf_event_opts o = { .sz = sizeof(o), .cpu = -1 };
	int fd = prog_fd_of(L), e;
	const char *ev;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;

	if (lua_type(L, 2) == LUA_TSTRING) {
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, 2);
		lua_setfield(L, -2, "event");
		lua_replace(L, 2);
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	check_opts(L, 2, "attach_perf_event", allowed);
	ev = opt_str(L, 2, "event");
	if (ev) {
		if (ebpfdsl_perf_event_parse(ev, &o.type, &o.config) < 0)
			return luaL_error(L, "attach_perf_event: unknown event '%s' (cpu-clock, task-clock, "
					     "page-faults, context-switches, cycles, instructions, cache-misses, ...)",
					  ev);
	} else {
		o.type = (uint32_t)opt_int(L, 2, "type", -1);
		if (opt_int(L, 2, "type", -1) < 0)
			return luaL_error(L, "attach_perf_event: event= or type= and config= are needed");
		o.config = (uint64_t)opt_int(L, 2, "config", 0);
	}
	o.sample_period = (uint64_t)opt_int(L, 2, "period", 0);
	o.sample_freq = (uint64_t)opt_int(L, 2, "freq", 0);
	o.cpu = (int)opt_int(L, 2, "cpu", -1);
	o.pid = (int)opt_int(L, 2, "pid", 0);
	o.cookie = (uint64_t)opt_int(L, 2, "cookie", 0);
	u = new_link(L);
	e = ebpfdsl_attach_perf_event(fd, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_xdp(ifname[, {mode="generic"|"driver"|"offload", netlink=}]) */
static int prog_attach_xdp(lua_State *L)
{
	static const char *const allowed[] = { "mode", "netlink", NULL };
	static const char *const modes[] = { "any", "generic", "driver", "offload", NULL };
	struct ebpfdsl_xdp_opts o = { .sz = sizeof(o) };
	int fd = prog_fd_of(L), e;
	const char *ifname = luaL_checkstring(L, 2), *mode;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;

	check_opts(L, 3, "attach_xdp", allowed);
	mode = opt_str(L, 3, "mode");
	if (mode) {
		o.mode = -1;
		for (int i = 0; modes[i]; i++)
			if (strcmp(modes[i], mode) == 0)
				o.mode = i;
		if (strcmp(mode, "skb") == 0)
			o.mode = EBPFDSL_XDP_GENERIC;
		else if (strcmp(mode, "native") == 0 || strcmp(mode, "drv") == 0)
			o.mode = EBPFDSL_XDP_DRIVER;
		if (o.mode < 0)
			return luaL_error(L, "attach_xdp: unknown mode '%s' (generic, driver, offload)", mode);
	}
	o.netlink = opt_bool(L, 3, "netlink");
	u = new_link(L);
	e = ebpfdsl_attach_xdp(fd, ifname, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_tc(ifname, "ingress"|"egress"[, {handle=, priority=}]) */
static int prog_attach_tc(lua_State *L)
{
	static const char *const allowed[] = { "handle", "priority", NULL };
	static const char *const dirs[] = { "ingress", "egress", NULL };
	struct ebpfdsl_tc_opts o = { .sz = sizeof(o) };
	int fd = prog_fd_of(L), e;
	const char *ifname = luaL_checkstring(L, 2);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;

	o.egress = luaL_checkoption(L, 3, "ingress", dirs);
	check_opts(L, 4, "attach_tc", allowed);
	o.handle = (uint32_t)opt_int(L, 4, "handle", 0);
	o.priority = (uint32_t)opt_int(L, 4, "priority", 0);
	u = new_link(L);
	e = ebpfdsl_attach_tc(fd, ifname, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_socket(fd | socket): an integer fd, or an object with
 * :getfd() (LuaSocket) or :fd() */
static int prog_attach_socket(lua_State *L)
{
	int fd = prog_fd_of(L), sock, e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	lua_settop(L, 2);
	sock = ebpfdsl_lua_tofd(L, 2, "attach_socket");
	u = new_link(L);
	e = ebpfdsl_attach_socket(fd, sock, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_sockmap(map[, kind]): an sk_msg program (kind
 * "msg_verdict", the default) or an sk_skb one ("verdict",
 * "stream_verdict", "stream_parser") on a sockmap or sockhash. */
static int prog_attach_sockmap(lua_State *L)
{
	static const char *const kinds[] = { "msg_verdict", "verdict", "stream_verdict", "stream_parser", NULL };
	static const char *const full[] = { "sk_msg_verdict", "sk_skb_verdict", "sk_skb_stream_verdict",
					    "sk_skb_stream_parser", NULL };
	int fd = prog_fd_of(L), map, e, k = -1;
	const char *ptype = prog_type_of(L), *kind = luaL_optstring(L, 3, NULL);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;

	lua_settop(L, 3);
	if (strcmp(ptype, "sk_msg") != 0 && strcmp(ptype, "sk_skb") != 0)
		return luaL_error(L, "attach_sockmap: a %s program cannot attach to a sockmap (sk_msg and sk_skb can)",
				  ptype);
	if (!kind && strcmp(ptype, "sk_msg") == 0)
		kind = "msg_verdict";
	if (!kind)
		return luaL_error(L, "attach_sockmap: an sk_skb program needs a kind (\"verdict\", \"stream_verdict\" "
				     "or \"stream_parser\")");
	for (int i = 0; kinds[i]; i++)
		if (strcmp(kind, kinds[i]) == 0 || strcmp(kind, full[i]) == 0)
			k = i;
	if (k < 0)
		return luaL_error(L, "attach_sockmap: unknown kind '%s' (msg_verdict, verdict, stream_verdict, "
				     "stream_parser)",
				  kind);
	if ((k == 0) != (strcmp(ptype, "sk_msg") == 0))
		return luaL_error(L, "attach_sockmap: kind '%s' is for %s programs, this one is %s", kinds[k],
				  k == 0 ? "sk_msg" : "sk_skb", ptype);
	map = ebpfdsl_lua_tofd(L, 2, "attach_sockmap");
	u = ebpfdsl_lua_new_link(L, 1, 2); /* the map lives as long as the link */
	e = ebpfdsl_attach_sockmap(fd, map, ebpfdsl_attach_type_parse(full[k]), &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* An attach type from its libbpf name or a short one: "ingress" ->
 * cgroup_inet_ingress, "connect4" -> cgroup_inet4_connect, "sendmsg4"
 * -> cgroup_udp4_sendmsg, "sysctl" -> cgroup_sysctl. */
static int attach_type_named(const char *name)
{
	char buf[96];
	size_t n = strlen(name);
	int t = ebpfdsl_attach_type_parse(name);
	if (t >= 0 || n > 64)
		return t;
	snprintf(buf, sizeof(buf), "cgroup_%s", name);
	if ((t = ebpfdsl_attach_type_parse(buf)) >= 0)
		return t;
	snprintf(buf, sizeof(buf), "cgroup_inet_%s", name);
	if ((t = ebpfdsl_attach_type_parse(buf)) >= 0)
		return t;
	if (n > 1 && (name[n - 1] == '4' || name[n - 1] == '6')) {
		snprintf(buf, sizeof(buf), "cgroup_inet%c_%.*s", name[n - 1], (int)(n - 1), name);
		if ((t = ebpfdsl_attach_type_parse(buf)) >= 0)
			return t;
		snprintf(buf, sizeof(buf), "cgroup_udp%c_%.*s", name[n - 1], (int)(n - 1), name);
		if ((t = ebpfdsl_attach_type_parse(buf)) >= 0)
			return t;
	}
	return -ENOENT;
}

/* prog:attach_cgroup(path[, attach_type]) */
static int prog_attach_cgroup(lua_State *L)
{
	int fd = prog_fd_of(L), e, t;
	const char *path = luaL_checkstring(L, 2), *tname = luaL_optstring(L, 3, NULL);
	const char *ptype = prog_type_of(L);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;

	if (!tname) {
		if (strcmp(ptype, "cgroup_sock") == 0)
			tname = "cgroup_inet_sock_create";
		else if (strcmp(ptype, "cgroup_device") == 0)
			tname = "cgroup_device";
		else if (strcmp(ptype, "cgroup_sysctl") == 0)
			tname = "cgroup_sysctl";
		else if (strcmp(ptype, "sock_ops") == 0)
			tname = "cgroup_sock_ops";
		else
			return luaL_error(L, "attach_cgroup: a %s program needs an attach type (%s)", ptype,
					  strcmp(ptype, "cgroup_skb") == 0 ? "\"ingress\" or \"egress\""
									  : "e.g. \"connect4\", \"getsockopt\"");
	}
	t = attach_type_named(tname);
	if (t < 0)
		return luaL_error(L, "attach_cgroup: unknown attach type '%s'", tname);
	u = new_link(L);
	e = ebpfdsl_attach_cgroup(fd, path, t, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_netns([path]): sk_lookup and flow_dissector programs on a
 * network namespace file (default: our own) */
static int prog_attach_netns(lua_State *L)
{
	int fd = prog_fd_of(L), e, t;
	const char *path = luaL_optstring(L, 2, NULL);
	const char *ptype = prog_type_of(L);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	if (strcmp(ptype, "sk_lookup") == 0)
		t = BPF_SK_LOOKUP;
	else if (strcmp(ptype, "flow_dissector") == 0)
		t = BPF_FLOW_DISSECTOR;
	else
		return luaL_error(L, "attach_netns: a %s program cannot attach to a network namespace "
				     "(sk_lookup and flow_dissector can)",
				  ptype);
	u = new_link(L);
	e = ebpfdsl_attach_netns(fd, path, t, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* prog:attach_iter([{map=, tid=, pid=, cgroup_fd=, order=}]) */
static int prog_attach_iter(lua_State *L)
{
	static const char *const allowed[] = { "map", "tid", "pid", "cgroup_fd", "order", NULL };
	struct ebpfdsl_iter_opts o = { .sz = sizeof(o) };
	int fd = prog_fd_of(L), e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	check_opts(L, 2, "attach_iter", allowed);
	if (!lua_isnoneornil(L, 2)) {
		if (lua_getfield(L, 2, "map") != LUA_TNIL)
			o.map_fd = ebpfdsl_lua_tofd(L, -1, "attach_iter map");
		lua_pop(L, 1);
		o.tid = (uint32_t)opt_int(L, 2, "tid", 0);
		o.pid = (uint32_t)opt_int(L, 2, "pid", 0);
		o.cgroup_fd = (int)opt_int(L, 2, "cgroup_fd", 0);
		o.order = (uint32_t)opt_int(L, 2, "order", 0);
	}
	u = new_link(L);
	e = ebpfdsl_attach_iter(fd, &o, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

/* attach_type(name) -> number, accepting the short cgroup names too */
static int l_attach_type(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int t = attach_type_named(name);
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

/* Added to ebpfdsl.Prog's methods, which lua_prog.c made first. */
static const luaL_Reg prog_attach_methods[] = {
	{ "attach_tracepoint", prog_attach_tracepoint },
	{ "attach_raw_tracepoint", prog_attach_raw_tracepoint },
	{ "attach_tracing", prog_attach_tracing },
	{ "attach_fentry", prog_attach_tracing },
	{ "attach_fexit", prog_attach_tracing },
	{ "attach_lsm", prog_attach_tracing },
	{ "attach_kprobe", prog_attach_kprobe },
	{ "attach_kretprobe", prog_attach_kretprobe },
	{ "attach_kprobe_multi", prog_attach_kprobe_multi },
	{ "attach_uprobe", prog_attach_uprobe },
	{ "attach_uretprobe", prog_attach_uretprobe },
	{ "attach_perf_event", prog_attach_perf_event },
	{ "attach_xdp", prog_attach_xdp },
	{ "attach_tc", prog_attach_tc },
	{ "attach_socket", prog_attach_socket },
	{ "attach_cgroup", prog_attach_cgroup },
	{ "attach_netns", prog_attach_netns },
	{ "attach_iter", prog_attach_iter },
	{ "attach_sockmap", prog_attach_sockmap },
	{ NULL, NULL },
};

/* module functions */
static const luaL_Reg attach_functions[] = {
	{ "attach_type", l_attach_type },
	{ "find_binary", l_find_binary },
	{ "symbol_offset", l_symbol_offset },
	{ "elf_symbol_offset", l_symbol_offset }, /* the name ebpfdsl.uprobe asks for */
	{ "struct_ops_register", l_struct_ops_register },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_attach(lua_State *L)
{
	ebpfdsl_lua_class_extend(L, PROG, prog_attach_methods, 0);
	luaL_setfuncs(L, attach_functions, 0);
}
