/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Link and ebpfdsl.Iter, and the prog:attach_* methods that make
 * links; the methods are added to ebpfdsl.Prog's method table here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lua_util.h"

static const char *const LINK = "ebpfdsl.Link";
static const char *const ITER = "ebpfdsl.Iter";
static const char *const PROG = "ebpfdsl.Prog";

/* user value 1: the Prog the link runs, kept alive as long as the link;
 * 2: what else the attachment needs alive (the ebpfdsl.Object of a link
 * libbpf made) */
struct link_ud {
	ebpfdsl_link *l; /* NULL: closed */
};

struct iter_ud {
	int fd; /* -1: closed */
};

#define ERRLEN 1024

/* ---- Link ---------------------------------------------------------- */

static struct link_ud *check_link(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, LINK);
}

static ebpfdsl_link *check_open_link(lua_State *L, int idx)
{
	struct link_ud *u = check_link(L, idx);
	if (!u->l || ebpfdsl_link__detached(u->l))
		luaL_error(L, "attempt to use a closed %s", LINK);
	return u->l;
}

/* detach, close, __close and __gc: one idempotent function */
static int link_close(lua_State *L)
{
	struct link_ud *u = check_link(L, 1);
	ebpfdsl_link *l = u->l;
	u->l = NULL;
	ebpfdsl_link__free(l);
	return 0;
}

static int link_tostring(lua_State *L)
{
	struct link_ud *u = check_link(L, 1);
	const char *kind, *pname = "?";
	int n;
	if (!u->l) {
		lua_pushfstring(L, "%s (closed)", LINK);
		return 1;
	}
	kind = ebpfdsl_link_kind_name(ebpfdsl_link__kind(u->l));
	if (lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA && lua_getfield(L, -1, "name") == LUA_TFUNCTION) {
		lua_pushvalue(L, -2);
		lua_call(L, 1, 1);
		if (lua_isstring(L, -1))
			pname = lua_tostring(L, -1);
	}
	n = ebpfdsl_link__count(u->l);
	lua_pushfstring(L, "%s %s %s (prog '%s'", LINK, kind, ebpfdsl_link__target(u->l), pname);
	if (ebpfdsl_link__fd(u->l) >= 0)
		lua_pushfstring(L, ", fd=%d", ebpfdsl_link__fd(u->l));
	else if (n > 1)
		lua_pushfstring(L, ", %d attachments", n);
	else
		lua_pushliteral(L, "");
	if (ebpfdsl_link__pin_path(u->l))
		lua_pushfstring(L, ", pinned at %s)", ebpfdsl_link__pin_path(u->l));
	else
		lua_pushliteral(L, ")");
	lua_concat(L, 3);
	return 1;
}

static int link_fd(lua_State *L)
{
	ebpfdsl_link *l = check_open_link(L, 1);
	int fd = ebpfdsl_link__fd(l);
	if (fd < 0) {
		luaL_pushfail(L);
		if (ebpfdsl_link__count(l) > 1)
			lua_pushfstring(L, "%s link of %d attachments has no single fd",
					ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)), ebpfdsl_link__count(l));
		else
			lua_pushfstring(L, "a %s attachment is not a bpf link and has no fd",
					ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)));
		lua_pushinteger(L, -fd);
		return 3;
	}
	lua_pushinteger(L, fd);
	return 1;
}

static int link_kind(lua_State *L)
{
	struct link_ud *u = check_link(L, 1);
	if (!u->l)
		return 0;
	lua_pushstring(L, ebpfdsl_link_kind_name(ebpfdsl_link__kind(u->l)));
	return 1;
}

static int link_target(lua_State *L)
{
	struct link_ud *u = check_link(L, 1);
	if (!u->l)
		return 0;
	lua_pushstring(L, ebpfdsl_link__target(u->l));
	return 1;
}

static int link_count(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_link__count(check_open_link(L, 1)));
	return 1;
}

static int link_prog(lua_State *L)
{
	check_link(L, 1);
	lua_getiuservalue(L, 1, 1);
	return 1;
}

static int link_pin(lua_State *L)
{
	ebpfdsl_link *l = check_open_link(L, 1);
	const char *path = luaL_checkstring(L, 2);
	int e = ebpfdsl_link__pin(l, path);
	if (e == -ENOTSUP)
		return ebpfdsl_lua_fail(L, e, "pin of %s link at %s: only bpf links can be pinned",
					ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)), path);
	if (e == -EBUSY)
		return ebpfdsl_lua_fail(L, e, "pin at %s: already pinned at %s", path, ebpfdsl_link__pin_path(l));
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "pin of %s link at %s", ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)),
					path);
	lua_settop(L, 1);
	return 1;
}

static int link_unpin(lua_State *L)
{
	ebpfdsl_link *l = check_open_link(L, 1);
	int e = ebpfdsl_link__unpin(l);
	if (e == -ENOENT && !ebpfdsl_link__pin_path(l))
		return ebpfdsl_lua_fail(L, e, "unpin: the link is not pinned");
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "unpin %s", ebpfdsl_link__pin_path(l));
	lua_settop(L, 1);
	return 1;
}

static int link_pin_path(lua_State *L)
{
	struct link_ud *u = check_link(L, 1);
	if (!u->l || !ebpfdsl_link__pin_path(u->l))
		return 0;
	lua_pushstring(L, ebpfdsl_link__pin_path(u->l));
	return 1;
}

static int link_info(lua_State *L)
{
	ebpfdsl_link *l = check_open_link(L, 1);
	struct ebpfdsl_link_info i = { .sz = sizeof(i) };
	static const char *const perf_types[] = { "unspec", "uprobe", "uretprobe", "kprobe",
						  "kretprobe", "tracepoint", "event" };
	int e = ebpfdsl_link__info(l, &i);
	if (e == -ENOTSUP)
		return ebpfdsl_lua_fail(L, e, "info: a %s attachment is not a single bpf link",
					ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)));
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "info of %s link", ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)));
	lua_createtable(L, 0, 8);
	lua_pushstring(L, ebpfdsl_link_type_name((int)i.type) ? ebpfdsl_link_type_name((int)i.type) : "unknown");
	lua_setfield(L, -2, "type");
	ebpfdsl_lua_set_int(L, "id", i.id);
	ebpfdsl_lua_set_int(L, "prog_id", i.prog_id);
	switch (i.type) {
	case BPF_LINK_TYPE_TRACING:
	case BPF_LINK_TYPE_CGROUP:
	case BPF_LINK_TYPE_NETNS:
		if (ebpfdsl_attach_type_name((int)i.attach_type)) {
			lua_pushstring(L, ebpfdsl_attach_type_name((int)i.attach_type));
			lua_setfield(L, -2, "attach_type");
		}
		break;
	default:
		break;
	}
	if (i.type == BPF_LINK_TYPE_TRACING) {
		ebpfdsl_lua_set_int(L, "target_obj_id", i.target_obj_id);
		ebpfdsl_lua_set_int(L, "target_btf_id", i.target_btf_id);
	}
	if (i.type == BPF_LINK_TYPE_CGROUP)
		ebpfdsl_lua_set_int(L, "cgroup_id", (lua_Integer)i.cgroup_id);
	if (i.type == BPF_LINK_TYPE_NETNS)
		ebpfdsl_lua_set_int(L, "netns_ino", i.netns_ino);
	if (i.type == BPF_LINK_TYPE_XDP)
		ebpfdsl_lua_set_int(L, "ifindex", i.ifindex);
	if (i.type == BPF_LINK_TYPE_ITER && i.map_id)
		ebpfdsl_lua_set_int(L, "map_id", i.map_id);
	if (i.type == BPF_LINK_TYPE_PERF_EVENT && i.perf_event_type) {
		if (i.perf_event_type < sizeof(perf_types) / sizeof(perf_types[0])) {
			lua_pushstring(L, perf_types[i.perf_event_type]);
			lua_setfield(L, -2, "perf_event_type");
		}
		ebpfdsl_lua_set_int(L, "cookie", (lua_Integer)i.cookie);
		if (i.perf_event_type <= 4)
			ebpfdsl_lua_set_int(L, "offset", i.offset);
		if (i.perf_event_type == 6)
			ebpfdsl_lua_set_int(L, "config", (lua_Integer)i.config);
	}
	if (i.name[0]) {
		lua_pushstring(L, i.name);
		lua_setfield(L, -2, "name");
	}
	return 1;
}

/* ---- Iter: a readable fd of an iterator's output --------------------- */

static struct iter_ud *check_iter(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, ITER);
}

static int iter_close(lua_State *L)
{
	struct iter_ud *it = check_iter(L, 1);
	if (it->fd >= 0) {
		close(it->fd);
		it->fd = -1;
	}
	return 0;
}

static int iter_tostring(lua_State *L)
{
	struct iter_ud *it = check_iter(L, 1);
	if (it->fd < 0)
		lua_pushfstring(L, "%s (closed)", ITER);
	else
		lua_pushfstring(L, "%s fd=%d", ITER, it->fd);
	return 1;
}

static int iter_fd(lua_State *L)
{
	struct iter_ud *it = check_iter(L, 1);
	if (it->fd < 0)
		return luaL_error(L, "attempt to use a closed %s", ITER);
	lua_pushinteger(L, it->fd);
	return 1;
}

/* iter:read([max]) -> the output up to max bytes (all of it by default),
 * "" at the end | nil, msg, errno. The buffer is Lua's, so an error
 * cannot leak it. */
static int iter_read(lua_State *L)
{
	struct iter_ud *it = check_iter(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, LUA_MAXINTEGER);
	luaL_Buffer b;
	size_t got = 0;
	if (it->fd < 0)
		return luaL_error(L, "attempt to use a closed %s", ITER);
	luaL_argcheck(L, max > 0, 2, "must be positive");
	luaL_buffinit(L, &b);
	while ((lua_Integer)got < max) {
		size_t want = LUAL_BUFFERSIZE;
		char *p = luaL_prepbuffsize(&b, want);
		ssize_t n;
		if ((lua_Integer)want > max - (lua_Integer)got)
			want = (size_t)(max - (lua_Integer)got);
		do
			n = read(it->fd, p, want);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno;
			luaL_pushresult(&b);
			return ebpfdsl_lua_fail(L, e, "reading iterator output");
		}
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
		got += (size_t)n;
	}
	luaL_pushresult(&b);
	return 1;
}

static int push_iter(lua_State *L, ebpfdsl_link *l)
{
	struct iter_ud *it = lua_newuserdatauv(L, sizeof(*it), 0);
	it->fd = -1;
	luaL_setmetatable(L, ITER);
	it->fd = ebpfdsl_link__iter_open(l);
	if (it->fd < 0) {
		int e = -it->fd;
		it->fd = -1;
		if (e == EINVAL)
			return ebpfdsl_lua_fail(L, e, "open_iter: a %s link is not an iterator",
						ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)));
		return ebpfdsl_lua_fail(L, e, "open_iter: bpf_iter_create");
	}
	return 1;
}

static int link_open_iter(lua_State *L)
{
	return push_iter(L, check_open_link(L, 1));
}

/* link:read_iter() -> the whole output of one pass of the iterator */
static int link_read_iter(lua_State *L)
{
	ebpfdsl_link *l = check_open_link(L, 1);
	int n = push_iter(L, l), top;
	if (n != 1)
		return n;
	top = lua_gettop(L);
	lua_pushcfunction(L, iter_read);
	lua_pushvalue(L, top);
	lua_call(L, 1, 3); /* output, or nil, message, errno */
	lua_pushcfunction(L, iter_close);
	lua_pushvalue(L, top);
	lua_call(L, 1, 0);
	if (lua_isnil(L, top + 1))
		return 3;
	lua_settop(L, top + 1);
	return 1;
}

/* ---- prog:attach_* ---------------------------------------------------- */

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

ebpfdsl_link **ebpfdsl_lua_new_link(lua_State *L, int prog_idx, int owner_idx)
{
	struct link_ud *u;
	prog_idx = prog_idx ? lua_absindex(L, prog_idx) : 0;
	owner_idx = owner_idx ? lua_absindex(L, owner_idx) : 0;
	u = lua_newuserdatauv(L, sizeof(*u), 2);
	u->l = NULL;
	luaL_setmetatable(L, LINK);
	if (prog_idx) {
		lua_pushvalue(L, prog_idx);
		lua_setiuservalue(L, -2, 1);
	}
	if (owner_idx) {
		lua_pushvalue(L, owner_idx);
		lua_setiuservalue(L, -2, 2);
	}
	return &u->l;
}

/* The Link of a prog:attach_* call: the prog (argument 1) is its user
 * value. */
static ebpfdsl_link **new_link(lua_State *L)
{
	return ebpfdsl_lua_new_link(L, 1, 0);
}

/* Finishes an attach: the link on success, else nil, message, errno. */
static int finish(lua_State *L, ebpfdsl_link **u, int e, ebpfdsl_link *l, const char *err)
{
	if (e < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		lua_pushinteger(L, -e);
		return 3;
	}
	*u = l;
	return 1;
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
	return finish(L, u, e, l, err);
}

static int prog_attach_raw_tracepoint(lua_State *L)
{
	int fd = prog_fd_of(L), e;
	const char *name = luaL_checkstring(L, 2);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u = new_link(L);
	e = ebpfdsl_attach_raw_tracepoint(fd, name, &l, err, sizeof(err));
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
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
			int isnum;
			lua_rawgeti(L, -2, (lua_Integer)i + 1);
			c[i] = (uint64_t)lua_tointegerx(L, -1, &isnum);
			if (!isnum)
				return luaL_error(L, "attach_kprobe_multi: cookie %d is not an integer", (int)i + 1);
			lua_pop(L, 1);
		}
		o.cookies = c;
	}
	u = new_link(L);
	e = ebpfdsl_attach_kprobe_multi(fd, &o, &l, err, sizeof(err));
	return finish(L, u, e, l, err);
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

	luaL_checktype(L, 2, LUA_TTABLE);
	check_opts(L, 2, fname, allowed);
	path = opt_str(L, 2, "path");
	if (!path)
		return luaL_error(L, "%s: path= is needed (a file, a library name, or \"c\" for libc)", fname);
	o.symbol = opt_str(L, 2, "symbol");
	o.offset = (uint64_t)opt_int(L, 2, "offset", 0);
	pid = opt_int(L, 2, "pid", 0);
	if (pid < 0 || pid > 0x7fffffff)
		return luaL_error(L, "%s: pid must be a process id", fname);
	o.pid = (int)pid;
	o.retprobe = ret || opt_bool(L, 2, "retprobe");
	o.cookie = (uint64_t)opt_int(L, 2, "cookie", 0);
	if (!o.symbol && !o.offset)
		return luaL_error(L, "%s: symbol= or offset= is needed", fname);
	u = new_link(L);
	e = ebpfdsl_attach_uprobe(fd, path, &o, &l, err, sizeof(err));
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
}

/* prog:attach_socket(fd | socket): an integer fd, or an object with
 * :getfd() (LuaSocket) or :fd() */
static int prog_attach_socket(lua_State *L)
{
	int fd = prog_fd_of(L), sock, e;
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	if ((lua_type(L, 2) == LUA_TUSERDATA || lua_type(L, 2) == LUA_TTABLE) &&
	    lua_getfield(L, 2, "getfd") == LUA_TFUNCTION) {
		lua_pushvalue(L, 2);
		lua_call(L, 1, 1);
		lua_replace(L, 2);
	}
	lua_settop(L, 2);
	sock = ebpfdsl_lua_tofd(L, 2, "attach_socket");
	u = new_link(L);
	e = ebpfdsl_attach_socket(fd, sock, &l, err, sizeof(err));
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
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
	return finish(L, u, e, l, err);
}

/* ---- module functions ------------------------------------------------- */

/* link_open_pinned(path) -> Link | nil, msg, errno */
static int l_link_open_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	int e;
	u = ebpfdsl_lua_new_link(L, 0, 0); /* no Prog: the kernel holds it */
	e = ebpfdsl_link_open_pinned(path, &l, err, sizeof(err));
	return finish(L, u, e, l, err);
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
	if (e < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		lua_pushinteger(L, -e);
		return 3;
	}
	lua_pushinteger(L, (lua_Integer)off);
	lua_pushstring(L, path);
	return 2;
}

static const luaL_Reg link_methods[] = {
	{ "detach", link_close },
	{ "close", link_close },
	{ "fd", link_fd },
	{ "kind", link_kind },
	{ "target", link_target },
	{ "count", link_count },
	{ "prog", link_prog },
	{ "pin", link_pin },
	{ "unpin", link_unpin },
	{ "pin_path", link_pin_path },
	{ "info", link_info },
	{ "open_iter", link_open_iter },
	{ "read_iter", link_read_iter },
	{ NULL, NULL },
};

static const luaL_Reg link_meta[] = {
	{ "__gc", link_close },
	{ "__close", link_close },
	{ "__tostring", link_tostring },
	{ NULL, NULL },
};

static const luaL_Reg iter_methods[] = {
	{ "read", iter_read },
	{ "close", iter_close },
	{ "fd", iter_fd },
	{ NULL, NULL },
};

static const luaL_Reg iter_meta[] = {
	{ "__gc", iter_close },
	{ "__close", iter_close },
	{ "__tostring", iter_tostring },
	{ NULL, NULL },
};

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
	{ NULL, NULL },
};

void ebpfdsl_lua_open_link(lua_State *L)
{
	ebpfdsl_lua_class(L, LINK, link_methods, link_meta);
	ebpfdsl_lua_class(L, ITER, iter_methods, iter_meta);
	if (luaL_getmetatable(L, PROG) != LUA_TTABLE)
		luaL_error(L, "ebpfdsl_lua_open_link: open %s first", PROG);
	lua_getfield(L, -1, "__index");
	luaL_setfuncs(L, prog_attach_methods, 0);
	lua_pop(L, 2);
	lua_pushcfunction(L, l_link_open_pinned);
	lua_setfield(L, -2, "link_open_pinned");
	lua_pushcfunction(L, l_attach_type);
	lua_setfield(L, -2, "attach_type");
	lua_pushcfunction(L, l_find_binary);
	lua_setfield(L, -2, "find_binary");
	lua_pushcfunction(L, l_symbol_offset);
	lua_setfield(L, -2, "symbol_offset");
	lua_pushcfunction(L, l_symbol_offset); /* the name ebpfdsl.uprobe asks for */
	lua_setfield(L, -2, "elf_symbol_offset");
}
