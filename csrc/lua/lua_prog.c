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
 * instructions name (kept alive as long as the program is), the path it
 * was pinned at by this handle */
enum { UV_INSNS = 1, UV_LABELS, UV_MAPS, UV_PIN, UV_COUNT = UV_PIN };

struct prog {
	int fd; /* -1: closed */
	int type;
	int attach_type; /* -1: none given */
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

static int prog_expected_attach_type(lua_State *L)
{
	struct prog *p = check_prog(L, 1);
	if (p->attach_type < 0)
		return 0;
	if (p->type == BPF_PROG_TYPE_STRUCT_OPS) /* the member index */
		lua_pushinteger(L, p->attach_type);
	else
		lua_pushstring(L, ebpfdsl_attach_type_name(p->attach_type));
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

/* Program types whose test runs take a context but give none back (the
 * kernel refuses ctx_out for them). */
static int ctx_in_only(int type)
{
	return type == BPF_PROG_TYPE_RAW_TRACEPOINT || type == BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE ||
	       type == BPF_PROG_TYPE_SYSCALL || type == BPF_PROG_TYPE_TRACING || type == BPF_PROG_TYPE_STRUCT_OPS;
}

/* prog:test_run{data=, ctx=, repeats=, data_size_out=, ctx_size_out=, flags=}
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
	/* `repeat` is a Lua keyword ({["repeat"]=n}); `repeats` reads better.
	 * 0 runs once, and is what raw tracepoint and syscall programs need. */
	rep = ebpfdsl_lua_optint_field(L, 2, "repeat", ebpfdsl_lua_optint_field(L, 2, "repeats", 0));
	out_size = ebpfdsl_lua_optint_field(L, 2, "data_size_out", (lua_Integer)run.data_size_in + 256);
	ctx_out_size = ebpfdsl_lua_optint_field(L, 2, "ctx_size_out", ctx_in_only(p->type) ? 0 : (lua_Integer)run.ctx_size_in);
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

/* Pushes the log rewritten by ebpfdsl_vlog_annotate. */
static void push_annotated(lua_State *L, const char *log, const char *bytes, size_t len,
			   const struct ebpfdsl_label *labels, size_t nlabels)
{
	const struct bpf_insn *insns = (const struct bpf_insn *)(const void *)bytes;
	size_t cnt = len / sizeof(struct bpf_insn);
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

/* What attach_to names for each attach type, for messages. */
static const char *attach_target_kind(int attach_type)
{
	switch (attach_type) {
	case BPF_TRACE_FENTRY:
	case BPF_TRACE_FEXIT:
	case BPF_MODIFY_RETURN:
		return "kernel function";
	case BPF_TRACE_RAW_TP:
		return "BTF tracepoint (typedef btf_trace_<name>)";
	case BPF_LSM_MAC:
	case BPF_LSM_CGROUP:
		return "LSM hook (function bpf_lsm_<hook>)";
	case BPF_TRACE_ITER:
		return "iterator (function bpf_iter_<name>)";
	default:
		return NULL;
	}
}

/* prog_load(type, bytes, {name=, license=, expected_attach_type=,
 *   attach_btf_id=, attach_to=, attach_btf=, attach_prog_fd=, flags=,
 *   log_level=, labels=, maps=}) -> Prog | nil, msg, errno, log, raw log
 *   (log: the verifier's, its instruction lines in our disassembly) */
static int l_prog_load(lua_State *L)
{
	const char *tname = luaL_checkstring(L, 1);
	size_t len;
	const char *bytes = luaL_checklstring(L, 2, &len);
	struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o) };
	int type = ebpfdsl_prog_type_parse(tname), attach;
	size_t log_size = LOG_START;
	const char *attach_to;
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
	lua_settop(L, 3);
	o.name = ebpfdsl_lua_optstr_field(L, 3, "name", "", NULL);
	if (!valid_name(o.name))
		return luaL_error(L, "program name '%s' must be at most %d letters, digits, '_' or '.'", o.name,
				  BPF_OBJ_NAME_LEN - 1);
	o.license = ebpfdsl_lua_optstr_field(L, 3, "license", "GPL", NULL);
	attach = opt_attach_type(L, 3);
	o.expected_attach_type = attach < 0 ? 0 : attach;
	o.attach_btf_id = (unsigned)ebpfdsl_lua_optint_field(L, 3, "attach_btf_id", 0);
	o.attach_prog_fd = (int)ebpfdsl_lua_optint_field(L, 3, "attach_prog_fd", 0);
	o.prog_flags = (unsigned)ebpfdsl_lua_optint_field(L, 3, "flags", 0);
	o.log_level = (unsigned)ebpfdsl_lua_optint_field(L, 3, "log_level", 0);
	attach_to = ebpfdsl_lua_optstr_field(L, 3, "attach_to", NULL, NULL);

	/* the userdata exists, closed, before the fd does */
	p = lua_newuserdatauv(L, sizeof(*p), UV_COUNT); /* 4 */
	p->fd = -1;
	p->type = type;
	p->attach_type = attach;
	snprintf(p->name, sizeof(p->name), "%s", o.name);
	luaL_setmetatable(L, PROG);

	/* attach_to -> attach_btf_id here rather than in the C library, so
	 * that a missing target gets a message naming what was looked for */
	if (attach_to) {
		const char *what = type == BPF_PROG_TYPE_STRUCT_OPS ? "struct_ops member (struct.member)"
								     : attach_target_kind(o.expected_attach_type);
		const ebpfdsl_btf *b;
		uint32_t sid = 0;
		int id;
		lua_getfield(L, 3, "attach_btf");
		b = ebpfdsl_lua_tobtf(L, -1);
		lua_pop(L, 1);
		if (!what)
			return luaL_error(L, "attach_to needs an attach type that attaches to a BTF id (trace_fentry, "
					  "trace_fexit, modify_return, trace_raw_tp, trace_iter, lsm_mac, lsm_cgroup), "
					  "got %s", attach < 0 ? "none" : ebpfdsl_attach_type_name(attach));
		if (!b && !(b = ebpfdsl_btf__vmlinux()))
			return ebpfdsl_lua_fail(L, errno, "load of %s '%s': cannot resolve '%s' without the kernel's BTF",
						tname, p->name, attach_to);
		if (type == BPF_PROG_TYPE_STRUCT_OPS)
			id = ebpfdsl_btf__struct_ops_member(b, attach_to, &sid);
		else
			id = ebpfdsl_btf__attach_id(b, o.expected_attach_type, attach_to);
		if (id < 0) {
			luaL_pushfail(L);
			lua_pushfstring(L, "load of %s '%s': no %s '%s' in %s BTF", tname, p->name, what, attach_to,
					ebpfdsl_btf__source(b));
			lua_pushinteger(L, -id);
			return 3;
		}
		if (type == BPF_PROG_TYPE_STRUCT_OPS) { /* the member index is the attach type */
			o.expected_attach_type = id;
			p->attach_type = id;
			o.attach_btf_id = sid;
		} else {
			o.attach_btf_id = (unsigned)id;
		}
	}

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
		/* ENOTSUPP is the kernel's own, unknown to libc */
		const char *what = e == 524 ? "not supported (ENOTSUPP)" : strerror(e);
		if (*log) {
			size_t nlabels;
			struct ebpfdsl_label *labels;
			char *why = lua_newuserdatauv(L, 2048, 0);
			lua_getfield(L, 3, "labels");
			labels = labels_array(L, lua_gettop(L), &nlabels);
			ebpfdsl_vlog_explain(log, (const struct bpf_insn *)(const void *)bytes,
					     len / sizeof(struct bpf_insn), labels, nlabels, why, 2048);
			luaL_pushfail(L);
			lua_pushfstring(L, "load of %s '%s' refused: %s: %s", tname, p->name, what, why);
			lua_pushinteger(L, e);
			push_annotated(L, log, bytes, len, labels, nlabels);
			lua_pushstring(L, log);
			return 5;
		}
		luaL_pushfail(L);
		lua_pushfstring(L, "load of %s '%s' failed: %s", tname, p->name, what);
		lua_pushinteger(L, e);
		lua_pushliteral(L, "");
		lua_pushliteral(L, "");
		return 5;
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

void ebpfdsl_lua_push_prog(lua_State *L, int fd, int type, int attach_type, const char *name, int insns_idx)
{
	struct prog *p;
	insns_idx = insns_idx ? lua_absindex(L, insns_idx) : 0;
	p = lua_newuserdatauv(L, sizeof(*p), UV_COUNT);
	p->fd = fd;
	p->type = type;
	p->attach_type = attach_type;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	luaL_setmetatable(L, PROG);
	if (insns_idx)
		lua_pushvalue(L, insns_idx);
	else
		lua_pushliteral(L, "");
	lua_setiuservalue(L, -2, UV_INSNS);
	lua_newtable(L);
	lua_setiuservalue(L, -2, UV_LABELS);
	lua_newtable(L);
	lua_setiuservalue(L, -2, UV_MAPS);
}

static void hex(char *out, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* prog:info() -> {name=, tag=, id=, type=, xlated_size=, jited_size=,
 *   verified_insns=, load_time_ns=, btf_id=, map_ids={...}, uid=,
 *   gpl_compatible=, run_time_ns=, run_count=, recursion_misses=} */
static int prog_info(lua_State *L)
{
	struct prog *p = check_open(L, 1);
	struct bpf_prog_info info;
	uint32_t ids[64], nids = 64;
	char tag[2 * BPF_TAG_SIZE + 1];
	const char *tname;
	int err = ebpfdsl_prog__info(p->fd, &info, ids, &nids);

	if (err)
		return ebpfdsl_lua_fail(L, err, "info of '%s'", p->name);
	lua_createtable(L, 0, 16);
	lua_pushstring(L, info.name);
	lua_setfield(L, -2, "name");
	hex(tag, info.tag, BPF_TAG_SIZE);
	lua_pushstring(L, tag);
	lua_setfield(L, -2, "tag");
	tname = ebpfdsl_prog_type_name((int)info.type);
	if (tname)
		lua_pushstring(L, tname);
	else
		lua_pushinteger(L, info.type);
	lua_setfield(L, -2, "type");
#define SET(k, v) ebpfdsl_lua_set_int(L, k, (lua_Integer)(v))
	SET("id", info.id);
	SET("xlated_size", info.xlated_prog_len);
	SET("jited_size", info.jited_prog_len);
	SET("verified_insns", info.verified_insns);
	SET("load_time_ns", info.load_time);
	SET("btf_id", info.btf_id);
	SET("uid", info.created_by_uid);
	SET("run_time_ns", info.run_time_ns);
	SET("run_count", info.run_cnt);
	SET("recursion_misses", info.recursion_misses);
	SET("attach_btf_id", info.attach_btf_id);
	SET("attach_btf_obj_id", info.attach_btf_obj_id);
#undef SET
	lua_pushboolean(L, info.gpl_compatible);
	lua_setfield(L, -2, "gpl_compatible");
	if (nids > 64) { /* more than the first guess: ask again with room */
		uint32_t *more = lua_newuserdatauv(L, nids * sizeof(*more), 0);
		uint32_t n = nids;
		if ((err = ebpfdsl_prog__info(p->fd, &info, more, &n)))
			return ebpfdsl_lua_fail(L, err, "info of '%s'", p->name);
		lua_createtable(L, (int)n, 0);
		for (uint32_t i = 0; i < n && i < nids; i++) {
			lua_pushinteger(L, more[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_remove(L, -2);
	} else {
		lua_createtable(L, (int)nids, 0);
		for (uint32_t i = 0; i < nids; i++) {
			lua_pushinteger(L, ids[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	}
	lua_setfield(L, -2, "map_ids");
	return 1;
}

/* prog:pin(path) -> prog | nil, msg, errno */
static int prog_pin(lua_State *L)
{
	struct prog *p = check_open(L, 1);
	const char *path = luaL_checkstring(L, 2);
	int err = ebpfdsl_obj__pin(p->fd, path);
	if (err)
		return ebpfdsl_lua_fail(L, err, "pin of '%s' at %s", p->name, path);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 1, UV_PIN);
	lua_settop(L, 1);
	return 1;
}

/* prog:unpin([path]) -> true | nil, msg, errno: removes the pin this
 * handle made (or the one named) */
static int prog_unpin(lua_State *L)
{
	const char *path;
	int err;
	check_prog(L, 1);
	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		if (lua_getiuservalue(L, 1, UV_PIN) != LUA_TSTRING)
			return luaL_error(L, "unpin: this program was not pinned through this handle; give the path");
	}
	path = luaL_checkstring(L, 2);
	if ((err = ebpfdsl_obj__unpin(path)))
		return ebpfdsl_lua_fail(L, err, "unpin of %s", path);
	lua_pushnil(L);
	lua_setiuservalue(L, 1, UV_PIN);
	lua_pushboolean(L, 1);
	return 1;
}

/* prog_open_pinned(path) -> Prog | nil, msg, errno: type and name from the
 * kernel, instructions as the kernel translated them */
static int l_prog_open_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct bpf_prog_info info;
	struct bpf_insn *insns;
	size_t cnt;
	int fd = ebpfdsl_prog__open_pinned(path), err;

	if (fd == -EINVAL)
		return ebpfdsl_lua_fail(L, fd, "open of pinned program %s: not a program", path);
	if (fd < 0)
		return ebpfdsl_lua_fail(L, fd, "open of pinned program %s", path);
	err = ebpfdsl_prog__info(fd, &info, NULL, NULL);
	if (err) {
		close(fd);
		return ebpfdsl_lua_fail(L, err, "info of pinned program %s", path);
	}
	if (ebpfdsl_prog__xlated(fd, &insns, &cnt) == 0) {
		lua_pushlstring(L, (const char *)insns, cnt * sizeof(*insns));
		free(insns);
	} else {
		lua_pushliteral(L, "");
	}
	ebpfdsl_lua_push_prog(L, fd, (int)info.type, -1, info.name, -1);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, UV_PIN);
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

/* attach_types() -> {"cgroup_inet_ingress", ...}; attach_type_id(name) ->
 * number | nil */
static int l_attach_types(lua_State *L)
{
	int n = 0;
	lua_newtable(L);
	for (int t = 0; t < 256; t++) {
		const char *s = ebpfdsl_attach_type_name(t);
		if (!s)
			continue;
		lua_pushstring(L, s);
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

/* vlog_annotate(log, bytes[, labels]) -> the log in our terms */
static int l_vlog_annotate(lua_State *L)
{
	const char *log = luaL_checkstring(L, 1);
	size_t len, nlabels;
	const char *bytes = luaL_optlstring(L, 2, "", &len);
	struct ebpfdsl_label *labels;
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	labels = labels_array(L, 3, &nlabels);
	push_annotated(L, log, bytes, len, labels, nlabels);
	return 1;
}

/* vlog_explain(log, bytes[, labels]) -> message, insn index | nil */
static int l_vlog_explain(lua_State *L)
{
	const char *log = luaL_checkstring(L, 1);
	size_t len, nlabels;
	const char *bytes = luaL_optlstring(L, 2, "", &len);
	struct ebpfdsl_label *labels;
	char *out;
	int idx;
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	out = lua_newuserdatauv(L, 2048, 0);
	labels = labels_array(L, 3, &nlabels);
	idx = ebpfdsl_vlog_explain(log, (const struct bpf_insn *)(const void *)bytes, len / sizeof(struct bpf_insn),
				   labels, nlabels, out, 2048);
	lua_pushstring(L, out);
	if (idx < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, idx);
	return 2;
}

static const luaL_Reg prog_methods[] = {
	{ "fd", prog_fd },
	{ "close", prog_close },
	{ "test_run", prog_test_run },
	{ "type", prog_type },
	{ "name", prog_name },
	{ "expected_attach_type", prog_expected_attach_type },
	{ "insns", prog_insns },
	{ "labels", prog_labels },
	{ "maps", prog_maps },
	{ "info", prog_info },
	{ "pin", prog_pin },
	{ "unpin", prog_unpin },
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
	lua_pushcfunction(L, l_attach_types);
	lua_setfield(L, -2, "attach_types");
	lua_pushcfunction(L, l_prog_open_pinned);
	lua_setfield(L, -2, "prog_open_pinned");
	lua_pushcfunction(L, l_vlog_explain);
	lua_setfield(L, -2, "vlog_explain");
	lua_pushcfunction(L, l_vlog_annotate);
	lua_setfield(L, -2, "vlog_annotate");
}
