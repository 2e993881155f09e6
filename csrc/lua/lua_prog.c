/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Prog: a loaded program. Created closed, opened by a successful
 * load; __gc, __close and :close() are one idempotent function. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lua_util.h"

static const char *const PROG = "ebpfdsl.Prog";

/* user values: the program bytes, its labels {[slot]=name}, the maps its
 * instructions name (kept alive as long as the program is) */
enum { UV_INSNS = 1, UV_LABELS, UV_MAPS, UV_COUNT = UV_MAPS };

struct prog {
	int fd; /* -1: closed */
	int type;
	char name[BPF_OBJ_NAME_LEN];
};

#define LOG_START (64u * 1024)
#define LOG_MAX (256u * 1024 * 1024)

static struct prog *check_prog(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, PROG);
}

static struct prog *check_open(lua_State *L, int idx)
{
	struct prog *p = check_prog(L, idx);
	if (p->fd < 0)
		luaL_error(L, "attempt to use a closed %s", PROG);
	return p;
}

static int prog_close(lua_State *L)
{
	struct prog *p = check_prog(L, 1);
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	return 0;
}

static int prog_tostring(lua_State *L)
{
	struct prog *p = check_prog(L, 1);
	const char *type = ebpfdsl_prog_type_name(p->type);
	size_t len;
	if (p->fd < 0) {
		lua_pushfstring(L, "%s %s '%s' (closed)", PROG, type ? type : "?", p->name);
		return 1;
	}
	lua_getiuservalue(L, 1, UV_INSNS);
	lua_tolstring(L, -1, &len);
	lua_pushfstring(L, "%s %s '%s' fd=%d, %d insns\n", PROG, type ? type : "?", p->name, p->fd,
			(int)(len / sizeof(struct bpf_insn)));
	/* the disassembly, through the module's own printer */
	lua_getfield(L, lua_upvalueindex(1), "text");
	lua_pushvalue(L, -3);
	lua_getiuservalue(L, 1, UV_LABELS);
	lua_call(L, 2, 1);
	lua_concat(L, 2);
	return 1;
}

static int prog_fd(lua_State *L)
{
	lua_pushinteger(L, check_open(L, 1)->fd);
	return 1;
}

static int prog_type(lua_State *L)
{
	struct prog *p = check_prog(L, 1);
	lua_pushstring(L, ebpfdsl_prog_type_name(p->type));
	return 1;
}

static int prog_name(lua_State *L)
{
	lua_pushstring(L, check_prog(L, 1)->name);
	return 1;
}

static int prog_insns(lua_State *L)
{
	check_prog(L, 1);
	lua_getiuservalue(L, 1, UV_INSNS);
	return 1;
}

static int prog_labels(lua_State *L)
{
	check_prog(L, 1);
	lua_getiuservalue(L, 1, UV_LABELS);
	return 1;
}

static int prog_maps(lua_State *L)
{
	check_prog(L, 1);
	lua_getiuservalue(L, 1, UV_MAPS);
	return 1;
}

/* prog:test_run{data=, ctx=, repeat=, data_size_out=, ctx_size_out=, flags=}
 *   -> {retval=, data_out=, ctx_out=, duration_ns=} | nil, msg, errno */
static int prog_test_run(lua_State *L)
{
	struct prog *p = check_open(L, 1);
	struct ebpfdsl_test_run run = { .sz = sizeof(run) };
	lua_Integer rep, out_size, ctx_out_size, flags;
	void *data_out = NULL, *ctx_out = NULL;
	int err;

	if (lua_isnoneornil(L, 2))
		lua_newtable(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	run.data_in = ebpfdsl_lua_optstr_field(L, 2, "data", NULL, &run.data_size_in);
	run.ctx_in = ebpfdsl_lua_optstr_field(L, 2, "ctx", NULL, &run.ctx_size_in);
	rep = ebpfdsl_lua_optint_field(L, 2, "repeat", 1);
	out_size = ebpfdsl_lua_optint_field(L, 2, "data_size_out", (lua_Integer)run.data_size_in + 256);
	ctx_out_size = ebpfdsl_lua_optint_field(L, 2, "ctx_size_out", (lua_Integer)run.ctx_size_in);
	flags = ebpfdsl_lua_optint_field(L, 2, "flags", 0);
	if (rep < 0 || rep > 0xffffffffLL)
		return luaL_error(L, "test_run: repeat must be 0..4294967295, got %I", (LUAI_UACINT)rep);
	if (out_size < 0 || out_size > (1 << 30) || ctx_out_size < 0 || ctx_out_size > (1 << 30))
		return luaL_error(L, "test_run: output sizes must be 0..1GiB");
	run.repeat = (unsigned)rep;
	run.flags = (unsigned)flags;
	if (run.data_in && out_size > 0)
		data_out = lua_newuserdatauv(L, (size_t)out_size, 0); /* freed by the GC, even on error */
	if (ctx_out_size > 0)
		ctx_out = lua_newuserdatauv(L, (size_t)ctx_out_size, 0);
	run.data_out = data_out;
	run.data_size_out = data_out ? (size_t)out_size : 0;
	run.ctx_out = ctx_out;
	run.ctx_size_out = ctx_out ? (size_t)ctx_out_size : 0;
	err = ebpfdsl_prog__test_run(p->fd, &run);
	if (err)
		return ebpfdsl_lua_fail(L, err, "test_run of '%s'", p->name);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, run.retval);
	lua_setfield(L, -2, "retval");
	lua_pushinteger(L, run.duration);
	lua_setfield(L, -2, "duration_ns");
	if (data_out) {
		lua_pushlstring(L, data_out, run.data_size_out);
		lua_setfield(L, -2, "data_out");
	}
	if (ctx_out) {
		lua_pushlstring(L, ctx_out, run.ctx_size_out);
		lua_setfield(L, -2, "ctx_out");
	}
	return 1;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n >= BPF_OBJ_NAME_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* The verifier's reason: the last line of its log that is not one of the
 * summary lines it ends with ("processed 2 insns ...", "verification
 * time ...", "stack depth ..."). */
static int summary_line(const char *s, size_t n)
{
	static const char *const prefixes[] = { "processed ", "verification time", "stack depth", NULL };
	for (int i = 0; prefixes[i]; i++)
		if (n >= strlen(prefixes[i]) && strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return n == 0;
}

static void push_log_reason(lua_State *L, const char *log)
{
	const char *end = log + strlen(log);
	while (end > log) {
		const char *start = end, *stop = end;
		while (stop > log && (stop[-1] == '\n' || stop[-1] == ' '))
			stop--;
		start = stop;
		while (start > log && start[-1] != '\n')
			start--;
		if (!summary_line(start, (size_t)(stop - start))) {
			lua_pushlstring(L, start, (size_t)(stop - start));
			return;
		}
		end = start;
	}
	lua_pushliteral(L, "(empty verifier log)");
}

/* prog_load(type, bytes, {name=, license=, expected_attach_type=,
 *   attach_btf_id=, flags=, log_level=, labels=, maps=})
 *   -> Prog | nil, msg, errno, log */
static int l_prog_load(lua_State *L)
{
	const char *tname = luaL_checkstring(L, 1);
	size_t len;
	const char *bytes = luaL_checklstring(L, 2, &len);
	struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o) };
	int type = ebpfdsl_prog_type_parse(tname);
	size_t log_size = LOG_START;
	struct prog *p;
	char *log;
	int fd;

	if (type < 0)
		return luaL_error(L, "unknown program type '%s'", tname);
	if (len == 0 || len % sizeof(struct bpf_insn))
		return luaL_error(L, "program bytes must be a non-empty multiple of 8 long, got %d", (int)len);
	if (lua_isnoneornil(L, 3)) {
		lua_settop(L, 2);
		lua_newtable(L);
	}
	luaL_checktype(L, 3, LUA_TTABLE);
	o.name = ebpfdsl_lua_optstr_field(L, 3, "name", "", NULL);
	if (!valid_name(o.name))
		return luaL_error(L, "program name '%s' must be at most %d letters, digits, '_' or '.'", o.name,
				  BPF_OBJ_NAME_LEN - 1);
	o.license = ebpfdsl_lua_optstr_field(L, 3, "license", "GPL", NULL);
	o.expected_attach_type = (int)ebpfdsl_lua_optint_field(L, 3, "expected_attach_type", 0);
	o.attach_btf_id = (unsigned)ebpfdsl_lua_optint_field(L, 3, "attach_btf_id", 0);
	o.prog_flags = (unsigned)ebpfdsl_lua_optint_field(L, 3, "flags", 0);
	o.log_level = (unsigned)ebpfdsl_lua_optint_field(L, 3, "log_level", 0);

	/* the userdata exists, closed, before the fd does */
	p = lua_newuserdatauv(L, sizeof(*p), UV_COUNT); /* 4 */
	p->fd = -1;
	p->type = type;
	snprintf(p->name, sizeof(p->name), "%s", o.name);
	luaL_setmetatable(L, PROG);

	for (;;) {
		log = lua_newuserdatauv(L, log_size, 0); /* GC-owned scratch */
		o.log_buf = log;
		o.log_size = log_size;
		fd = ebpfdsl_prog__load(type, (const struct bpf_insn *)(const void *)bytes,
					len / sizeof(struct bpf_insn), &o);
		if (fd != -ENOSPC || log_size >= LOG_MAX)
			break;
		lua_pop(L, 1);
		log_size *= 4;
	}
	if (fd < 0) {
		int e = -fd;
		const char *what = strerror(e);
		luaL_pushfail(L);
		if (*log) {
			push_log_reason(L, log);
			lua_pushfstring(L, "load of %s '%s' refused: %s: %s", tname, p->name, what, lua_tostring(L, -1));
			lua_remove(L, -2);
		} else {
			lua_pushfstring(L, "load of %s '%s' failed: %s", tname, p->name, what);
		}
		lua_pushinteger(L, e);
		lua_pushstring(L, log);
		return 4;
	}
	lua_pop(L, 1); /* log */
	p->fd = fd;
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 4, UV_INSNS);
	if (lua_getfield(L, 3, "labels") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	lua_setiuservalue(L, 4, UV_LABELS);
	if (lua_getfield(L, 3, "maps") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	lua_setiuservalue(L, 4, UV_MAPS);
	if (o.log_level && *log) {
		lua_pushvalue(L, 4);
		lua_pushstring(L, log);
		return 2;
	}
	lua_settop(L, 4);
	return 1;
}

static int l_prog_types(lua_State *L)
{
	int n = 0;
	lua_newtable(L);
	for (int t = 0; t < 256; t++) {
		const char *s = ebpfdsl_prog_type_name(t);
		if (!s)
			continue;
		lua_pushstring(L, s);
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

static const luaL_Reg prog_methods[] = {
	{ "fd", prog_fd },
	{ "close", prog_close },
	{ "test_run", prog_test_run },
	{ "type", prog_type },
	{ "name", prog_name },
	{ "insns", prog_insns },
	{ "labels", prog_labels },
	{ "maps", prog_maps },
	{ NULL, NULL },
};

static const luaL_Reg prog_meta[] = {
	{ "__gc", prog_close },
	{ "__close", prog_close },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_prog(lua_State *L)
{
	ebpfdsl_lua_class(L, PROG, prog_methods, prog_meta);
	/* __tostring prints through the module's text(), an upvalue */
	luaL_getmetatable(L, PROG);
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, prog_tostring, 1);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_prog_load);
	lua_setfield(L, -2, "prog_load");
	lua_pushcfunction(L, l_prog_types);
	lua_setfield(L, -2, "prog_types");
}
