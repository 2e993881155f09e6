/* SPDX-License-Identifier: MIT */
/* programs.load underneath: options checked, attach_to resolved in BTF,
 * the log (grown by ebpfdsl_prog__load) kept, a refusal explained in our terms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua_opts.h"
#include "lua_prog.h"

/* A box for the log ebpfdsl_prog__load allocates (opts.log_alloc): a
 * handle whose object is the malloc'd log, so that an error frees it. */
static const struct ebpfdsl_lua_handle log_box = {
	.tname = "ebpfdsl.vlog",
	.noun = "log",
	.release = free,
};

/* The labels table {[slot]=name} at idx as an array for the C explainer;
 * the array lives in a userdata pushed on the stack (GC-owned). */
static struct ebpfdsl_label *labels_array(lua_State *L, int idx, size_t *n)
{
	struct ebpfdsl_label *a;
	size_t count = 0, i = 0;
	*n = 0;
	if (lua_type(L, idx) != LUA_TTABLE) {
		lua_pushnil(L);
		return NULL;
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		count++;
		lua_pop(L, 1);
	}
	a = lua_newuserdatauv(L, (count ? count : 1) * sizeof(*a), 0);
	lua_pushnil(L);
	while (lua_next(L, idx) && i < count) {
		if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 0 && lua_type(L, -1) == LUA_TSTRING) {
			a[i].slot = (size_t)lua_tointeger(L, -2);
			a[i].name = lua_tostring(L, -1); /* kept alive by the labels table */
			i++;
		}
		lua_pop(L, 1);
	}
	*n = i;
	return a;
}

void ebpfdsl_lua_push_annotated(lua_State *L, const char *log, const struct bpf_insn *insns, size_t cnt,
				const struct ebpfdsl_label *labels, size_t nlabels)
{
	int n = ebpfdsl_vlog_annotate(log, insns, cnt, labels, nlabels, NULL, 0);
	char *out = lua_newuserdatauv(L, (size_t)n + 1, 0);
	ebpfdsl_vlog_annotate(log, insns, cnt, labels, nlabels, out, (size_t)n + 1);
	lua_pushlstring(L, out, (size_t)n);
	lua_remove(L, -2);
}

/* expected_attach_type: a name as libbpf (or the kernel) names it, or a
 * number; -1 when absent */
static int opt_attach_type(lua_State *L, int idx)
{
	int t = lua_getfield(L, idx, "expected_attach_type"), v;
	if (t == LUA_TNIL) {
		v = -1;
	} else if (t == LUA_TNUMBER && lua_isinteger(L, -1)) {
		v = (int)lua_tointeger(L, -1);
		if (v < 0)
			luaL_error(L, "expected_attach_type must be a name or a non-negative number");
	} else if (t == LUA_TSTRING) {
		v = ebpfdsl_attach_type_parse(lua_tostring(L, -1));
		if (v < 0)
			luaL_error(L, "unknown attach type '%s' (named as libbpf names them: \"trace_fentry\", "
				      "\"cgroup_inet4_connect\", ...)", lua_tostring(L, -1));
	} else {
		luaL_error(L, "field 'expected_attach_type' must be a name or a number, got %s", luaL_typename(L, -1));
		v = -1;
	}
	lua_pop(L, 1);
	return v;
}

/* prog_btf= (a BTF in the kernel: b:load()), func_info=, line_info= (their
 * records as bytes, from prog_btf()), fd_array= (a list of fds). The
 * strings stay alive in the options table; the fd array is pushed (nil
 * when there is none). */
static void prog_debug_info(lua_State *L, int opts, struct ebpfdsl_prog_load_opts *o)
{
	size_t len;
	if (lua_getfield(L, opts, "prog_btf") != LUA_TNIL) {
		const ebpfdsl_btf *b = ebpfdsl_lua_tobtf(L, -1);
		int fd = ebpfdsl_btf__fd(b);
		if (fd < 0)
			luaL_error(L, "prog_btf must be a BTF loaded into the kernel (b:load())");
		o->prog_btf_fd = fd;
		o->func_info = (const void *)ebpfdsl_lua_optstr_field(L, opts, "func_info", NULL, &len);
		o->func_info_cnt = o->func_info ? (uint32_t)(len / sizeof(struct bpf_func_info)) : 0;
		o->line_info = (const void *)ebpfdsl_lua_optstr_field(L, opts, "line_info", NULL, &len);
		o->line_info_cnt = o->line_info ? (uint32_t)(len / sizeof(struct bpf_line_info)) : 0;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, opts, "fd_array") == LUA_TTABLE) {
		size_t n = lua_rawlen(L, -1);
		int *a = lua_newuserdatauv(L, (n + 1) * sizeof(*a), 0);
		a[0] = -1; /* off 0 is vmlinux, never read */
		for (size_t i = 1; i <= n; i++) {
			lua_rawgeti(L, -2, (lua_Integer)i);
			a[i] = ebpfdsl_lua_tofd(L, -1, "fd_array");
			lua_pop(L, 1);
		}
		o->fd_array = a;
		lua_remove(L, -2);
	}
}

/* programs.load's fields, one row each: those read here, those
 * programs.lua reads (KNOWN), those programs.lua makes for this call
 * (INNER: not the user's). The user's table is checked against them
 * first (core.prog_load_check), so this is the one list of the names. */
#define LOAD_ROW(kind, k, f) EBPFDSL_OPT_##kind(struct ebpfdsl_prog_load_opts, k, f)
static const struct ebpfdsl_lua_opt load_rows[] = {
	EBPFDSL_OPT_KNOWN("type"),
	EBPFDSL_OPT_KNOWN("insns"),
	LOAD_ROW(STR, "name", name),
	LOAD_ROW(STR, "license", license),
	EBPFDSL_OPT_KNOWN("expected_attach_type"), /* a name or a number: opt_attach_type */
	LOAD_ROW(U32, "attach_btf_id", attach_btf_id),
	LOAD_ROW(STR, "attach_to", attach_to),
	EBPFDSL_OPT_KNOWN("attach_btf"),
	LOAD_ROW(FD, "attach_prog", attach_prog_fd),
	LOAD_ROW(U32, "flags", prog_flags), /* programs.lua: a list of names too */
	EBPFDSL_OPT_KNOWN("sleepable"),
	LOAD_ROW(U32, "log_level", log_level),
	EBPFDSL_OPT_KNOWN("cpu"),
	EBPFDSL_OPT_KNOWN("btf"),
	EBPFDSL_OPT_KNOWN("lines"),
	EBPFDSL_OPT_KNOWN("file"),
	EBPFDSL_OPT_INNER("labels"),
	EBPFDSL_OPT_INNER("maps"),
	EBPFDSL_OPT_INNER("prog_btf"),
	EBPFDSL_OPT_INNER("func_info"),
	EBPFDSL_OPT_INNER("line_info"),
	EBPFDSL_OPT_INNER("fd_array"),
	EBPFDSL_OPT_END,
};

/* prog_load(type, bytes, {the rows above}) -> Prog | nil, msg, errno,
 *   log, raw log (log: the verifier's, its instruction lines in our
 *   disassembly) */
static int l_prog_load(lua_State *L)
{
	const char *tname = luaL_checkstring(L, 1);
	size_t len;
	const char *bytes = luaL_checklstring(L, 2, &len);
	/* Lua strings are aligned for any type */
	const struct bpf_insn *insns = (const struct bpf_insn *)(const void *)bytes;
	size_t cnt = len / sizeof(struct bpf_insn);
	struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o) };
	int type = ebpfdsl_prog_type_parse(tname), attach;
	unsigned level;
	const char *attach_to;
	struct prog *p;
	const char *log;
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
	lua_settop(L, 3);
	ebpfdsl_lua_opts_read(L, 3, "programs.load", load_rows, &o);
	o.sz = sizeof(o);
	o.name = o.name ? o.name : "";
	o.license = o.license ? o.license : "GPL";
	if (!ebpfdsl_lua_valid_name(o.name))
		return luaL_error(L, "program name '%s' must be at most %d letters, digits, '_' or '.'", o.name,
				  BPF_OBJ_NAME_LEN - 1);
	attach = opt_attach_type(L, 3);
	o.expected_attach_type = attach < 0 ? 0 : attach;
	attach_to = o.attach_to;
	o.attach_to = NULL; /* resolved here, before the load */

	/* the userdata exists, closed, before the fd does */
	ebpfdsl_lua_push_prog(L, type, attach, o.name, 2); /* 4 */
	p = lua_touserdata(L, 4);
	prog_debug_info(L, 3, &o); /* 5: the fd array, or nil */

	/* attach_to -> attach_btf_id before the load, rather than in it, so
	 * that a missing target gets a message naming what was looked for */
	if (attach_to) {
		char why[512];
		int eat = attach, err;
		lua_getfield(L, 3, "attach_btf");
		err = ebpfdsl_prog_resolve_attach_err(type, attach_to, ebpfdsl_lua_tobtf(L, -1), &eat, &o.attach_btf_id,
						      why, sizeof(why));
		lua_pop(L, 1);
		if (err < 0 && !ebpfdsl_prog_def_attach_to(type, attach))
			return luaL_error(L, "%s", why);
		if (err < 0) {
			luaL_pushfail(L);
			lua_pushfstring(L, "load of %s '%s': %s", tname, p->name, why);
			lua_pushinteger(L, -err);
			return 3;
		}
		o.expected_attach_type = p->attach_type = eat; /* a struct_ops member's index */
	}

	/* the log grows in ebpfdsl_prog__load (malloc'd, owned by a box from
	 * here on, so that an error on the way frees it) */
	level = o.log_level;
	o.log_alloc = ebpfdsl_lua_handle_new(L, &log_box, sizeof(char *), 0); /* 6 */
	fd = ebpfdsl_prog__load(type, insns, cnt, &o);
	log = *o.log_alloc ? *o.log_alloc : "";
	if (fd < 0) {
		size_t nlabels;
		struct ebpfdsl_label *labels;
		char *why = lua_newuserdatauv(L, 2560, 0);
		lua_getfield(L, 3, "labels");
		labels = labels_array(L, lua_gettop(L), &nlabels);
		ebpfdsl_prog__load_failure(fd, type, o.expected_attach_type, log, insns, cnt, labels, nlabels, why, 2560);
		luaL_pushfail(L);
		lua_pushfstring(L, "load of %s '%s' %s", tname, p->name, why);
		lua_pushinteger(L, -fd);
		if (*log)
			ebpfdsl_lua_push_annotated(L, log, insns, cnt, labels, nlabels);
		else
			lua_pushliteral(L, "");
		lua_pushstring(L, log);
		return 5;
	}
	p->fd = fd; /* the log box stays on the stack while log is read */
	if (lua_getfield(L, 3, "labels") == LUA_TTABLE) /* else the empty table push_prog made */
		lua_setiuservalue(L, 4, PROG_UV_LABELS);
	if (lua_getfield(L, 3, "maps") == LUA_TTABLE)
		lua_setiuservalue(L, 4, PROG_UV_MAPS);
	lua_settop(L, 6);
	if (level && *log) { /* the caller's level: a log asked for */
		lua_pushvalue(L, 4);
		lua_pushstring(L, log);
		return 2;
	}
	lua_settop(L, 4);
	return 1;
}

/* The arguments (log, bytes[, labels]) of vlog_annotate and vlog_explain:
 * the program's instructions and its labels as an array (pushed). */
struct vlog_args {
	const char *log;
	const struct bpf_insn *insns;
	size_t cnt;
	struct ebpfdsl_label *labels;
	size_t nlabels;
};

static void vlog_args(lua_State *L, struct vlog_args *a)
{
	size_t len;
	const char *bytes;
	a->log = luaL_checkstring(L, 1);
	bytes = luaL_optlstring(L, 2, "", &len);
	a->insns = (const struct bpf_insn *)(const void *)bytes;
	a->cnt = len / sizeof(struct bpf_insn);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	a->labels = labels_array(L, 3, &a->nlabels);
}

/* vlog_annotate(log, bytes[, labels]) -> the log in our terms */
static int l_vlog_annotate(lua_State *L)
{
	struct vlog_args a;
	vlog_args(L, &a);
	ebpfdsl_lua_push_annotated(L, a.log, a.insns, a.cnt, a.labels, a.nlabels);
	return 1;
}

/* vlog_explain(log, bytes[, labels]) -> message, insn index | nil */
static int l_vlog_explain(lua_State *L)
{
	struct vlog_args a;
	char *out;
	int idx;
	vlog_args(L, &a);
	out = lua_newuserdatauv(L, 2048, 0);
	idx = ebpfdsl_vlog_explain(a.log, a.insns, a.cnt, a.labels, a.nlabels, out, 2048);
	lua_pushstring(L, out);
	if (idx < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, idx);
	return 2;
}

/* module functions */
static const luaL_Reg load_functions[] = {
	{ "prog_load", l_prog_load },
	{ "vlog_explain", l_vlog_explain },
	{ "vlog_annotate", l_vlog_annotate },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_prog_load(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &log_box, NULL, NULL);
	luaL_setfuncs(L, load_functions, 0);
	ebpfdsl_lua_opts_push_checker(L, "programs.load", load_rows);
	lua_setfield(L, -2, "prog_load_check");
}
