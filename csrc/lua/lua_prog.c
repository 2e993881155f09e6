/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Prog: a loaded program. Created closed, opened by a successful
 * load; __gc, __close and :close() are one idempotent function. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lua_opts.h"
#include "lua_prog.h"

/* " socket_filter 'name'", and open: its fd, size and disassembly
 * (through the module's own printer, text()) */
static void prog_describe(lua_State *L, const void *ud, int open)
{
	const struct prog *p = ud;
	const char *type = ebpfdsl_prog_type_name(p->type);
	size_t len;
	if (!open) {
		lua_pushfstring(L, " %s '%s'", type ? type : "?", p->name);
		return;
	}
	lua_getiuservalue(L, 1, PROG_UV_INSNS);
	lua_tolstring(L, -1, &len);
	lua_pushfstring(L, " %s '%s' fd=%d, %d insns\n", type ? type : "?", p->name, p->fd,
			(int)(len / sizeof(struct bpf_insn)));
	lua_getfield(L, lua_upvalueindex(2), "text");
	lua_pushvalue(L, -3);
	lua_getiuservalue(L, 1, PROG_UV_LABELS);
	lua_call(L, 2, 1);
	lua_concat(L, 2);
	lua_remove(L, -2);
}

/* prog:pin(path), prog:unpin([path]) failures */
static int prog_pin_fail(lua_State *L, const void *ud, int err, const char *path, int pin)
{
	if (pin)
		return ebpfdsl_lua_fail(L, err, "pin of '%s' at %s%s", ((const struct prog *)ud)->name, path,
					ebpfdsl_lua_pin_hint(err, path));
	return ebpfdsl_lua_fail(L, err, "unpin of %s%s", path, ebpfdsl_lua_unpin_hint(err, path));
}

const struct ebpfdsl_lua_handle ebpfdsl_lua_prog_handle = { .tname = EBPFDSL_PROG_CLASS, .noun = "program",
							     .describe = prog_describe, .pin_uv = PROG_UV_PIN,
							     .pin_fail = prog_pin_fail };

#define check_prog(L, idx) ((struct prog *)ebpfdsl_lua_handle_check(L, idx, &ebpfdsl_lua_prog_handle))
#define check_open(L, idx) ((struct prog *)ebpfdsl_lua_handle_open(L, idx, &ebpfdsl_lua_prog_handle))

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

/* The flags of the program's row (csrc/kernel/prog_defs.c), 0 for none */
static unsigned def_flags(const struct prog *p)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_of(p->type, p->attach_type);
	return d ? d->flags : 0;
}

static int prog_expected_attach_type(lua_State *L)
{
	struct prog *p = check_prog(L, 1);
	if (p->attach_type < 0)
		return 0;
	if (def_flags(p) & EBPFDSL_PROG_DEF_MEMBER_INDEX) /* struct_ops */
		lua_pushinteger(L, p->attach_type);
	else
		lua_pushstring(L, ebpfdsl_attach_type_name(p->attach_type));
	return 1;
}


/* prog:test_run's options: data= and ctx= are read with their lengths;
 * -1 stands for a size not given, whose default depends on the others. */
struct run_opts {
	int64_t rep, reps, out_size, ctx_out_size;
	uint32_t flags;
};
static const struct ebpfdsl_lua_opt test_run_opts[] = {
	EBPFDSL_OPT_KNOWN("data"),
	EBPFDSL_OPT_KNOWN("ctx"),
	/* `repeat` is a Lua keyword ({["repeat"]=n}); `repeats` reads better.
	 * 0 runs once, and is what raw tracepoint and syscall programs need. */
	EBPFDSL_OPT_I64(struct run_opts, "repeat", rep, -1, 0, UINT32_MAX),
	EBPFDSL_OPT_I64(struct run_opts, "repeats", reps, 0, 0, UINT32_MAX),
	EBPFDSL_OPT_I64(struct run_opts, "data_size_out", out_size, -1, 0, 1 << 30),
	EBPFDSL_OPT_I64(struct run_opts, "ctx_size_out", ctx_out_size, -1, 0, 1 << 30),
	EBPFDSL_OPT_U32(struct run_opts, "flags", flags),
	EBPFDSL_OPT_END,
};

/* prog:test_run{data=, ctx=, repeats=, data_size_out=, ctx_size_out=, flags=}
 *   -> {retval=, data_out=, ctx_out=, duration_ns=} | nil, msg, errno */
static int prog_test_run(lua_State *L)
{
	struct prog *p = check_open(L, 1);
	struct ebpfdsl_test_run run = { .sz = sizeof(run) };
	struct run_opts o;
	lua_Integer rep, out_size, ctx_out_size;
	void *data_out = NULL, *ctx_out = NULL, *sys_ctx = NULL;
	int err;

	if (lua_isnoneornil(L, 2))
		lua_newtable(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	ebpfdsl_lua_opts_read(L, 2, "test_run", test_run_opts, &o);
	run.data_in = ebpfdsl_lua_optstr_field(L, 2, "data", NULL, &run.data_size_in);
	run.ctx_in = ebpfdsl_lua_optstr_field(L, 2, "ctx", NULL, &run.ctx_size_in);
	rep = o.rep >= 0 ? o.rep : o.reps;
	out_size = o.out_size >= 0 ? o.out_size : (lua_Integer)run.data_size_in + 256;
	ctx_out_size = o.ctx_out_size >= 0 ? o.ctx_out_size : (def_flags(p) & EBPFDSL_PROG_DEF_CTX_IN_ONLY) ? 0 : (lua_Integer)run.ctx_size_in;
	if (out_size > (1 << 30) || ctx_out_size > (1 << 30))
		return luaL_error(L, "test_run: output sizes must be 0..1GiB");
	run.repeat = (unsigned)rep;
	run.flags = o.flags;
	if (run.data_in && out_size > 0)
		data_out = lua_newuserdatauv(L, (size_t)out_size, 0); /* freed by the GC, even on error */
	if (ctx_out_size > 0)
		ctx_out = lua_newuserdatauv(L, (size_t)ctx_out_size, 0);
	run.data_out = data_out;
	run.data_size_out = data_out ? (size_t)out_size : 0;
	run.ctx_out = ctx_out;
	run.ctx_size_out = ctx_out ? (size_t)ctx_out_size : 0;
	/* A syscall program's context is copied back over ctx_in when it
	 * returns: never over a Lua string (they are shared), over a copy,
	 * which then comes back as ctx_out. */
	if ((def_flags(p) & EBPFDSL_PROG_DEF_CTX_WRITTEN) && run.ctx_in && run.ctx_size_in) {
		sys_ctx = lua_newuserdatauv(L, run.ctx_size_in, 0);
		memcpy(sys_ctx, run.ctx_in, run.ctx_size_in);
		run.ctx_in = sys_ctx;
	}
	err = ebpfdsl_prog__test_run(p->fd, &run);
	if (err)
		return ebpfdsl_lua_fail(L, err, "test_run of '%s'", p->name);
	lua_createtable(L, 0, 4);
	ebpfdsl_lua_set_int(L, "retval", run.retval);
	ebpfdsl_lua_set_int(L, "duration_ns", run.duration);
	if (data_out) {
		lua_pushlstring(L, data_out, run.data_size_out);
		lua_setfield(L, -2, "data_out");
	}
	if (ctx_out) {
		lua_pushlstring(L, ctx_out, run.ctx_size_out);
		lua_setfield(L, -2, "ctx_out");
	} else if (sys_ctx) {
		lua_pushlstring(L, sys_ctx, run.ctx_size_in);
		lua_setfield(L, -2, "ctx_out");
	}
	return 1;
}

int *ebpfdsl_lua_push_prog(lua_State *L, int type, int attach_type, const char *name, int insns_idx)
{
	struct prog *p;
	insns_idx = insns_idx ? lua_absindex(L, insns_idx) : 0;
	p = ebpfdsl_lua_handle_new(L, &ebpfdsl_lua_prog_handle, sizeof(*p), PROG_UV_COUNT);
	p->type = type;
	p->attach_type = attach_type;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	if (insns_idx)
		lua_pushvalue(L, insns_idx);
	else
		lua_pushliteral(L, "");
	lua_setiuservalue(L, -2, PROG_UV_INSNS);
	lua_newtable(L);
	lua_setiuservalue(L, -2, PROG_UV_LABELS);
	lua_newtable(L);
	lua_setiuservalue(L, -2, PROG_UV_MAPS);
	return &p->fd;
}

/* prog:info() -> {name=, tag=, id=, type=, xlated_size=, jited_size=,
 *   verified_insns=, load_time_ns=, btf_id=, map_ids={...}, uid=,
 *   gpl_compatible=, run_time_ns=, run_count=, recursion_misses=} */
#define INFO_U32(k, f) EBPFDSL_OPT_U32(struct bpf_prog_info, k, f)
#define INFO_U64(k, f) EBPFDSL_OPT_U64(struct bpf_prog_info, k, f)
static const struct ebpfdsl_lua_opt prog_info_rows[] = {
	EBPFDSL_OPT_NAMED(struct bpf_prog_info, "type", type, ebpfdsl_prog_type_name),
	EBPFDSL_OPT_CHARS(struct bpf_prog_info, "name", name),
	INFO_U32("id", id),
	INFO_U32("xlated_size", xlated_prog_len),
	INFO_U32("jited_size", jited_prog_len),
	INFO_U32("verified_insns", verified_insns),
	INFO_U64("load_time_ns", load_time),
	INFO_U32("btf_id", btf_id),
	INFO_U32("uid", created_by_uid),
	INFO_U64("run_time_ns", run_time_ns),
	INFO_U64("run_count", run_cnt),
	INFO_U64("recursion_misses", recursion_misses),
	INFO_U32("attach_btf_id", attach_btf_id),
	INFO_U32("attach_btf_obj_id", attach_btf_obj_id),
	EBPFDSL_OPT_END,
};

static int prog_info(lua_State *L)
{
	struct prog *p = check_open(L, 1);
	struct bpf_prog_info info;
	uint32_t ids[64], nids = 64, *list = ids;
	char tag[2 * BPF_TAG_SIZE + 1];
	int err = ebpfdsl_prog__info(p->fd, &info, ids, &nids);

	if (err)
		return ebpfdsl_lua_fail(L, err, "info of '%s'", p->name);
	lua_createtable(L, 0, 16);
	ebpfdsl_lua_opts_push(L, &info, prog_info_rows);
	for (int k = 0; k < BPF_TAG_SIZE; k++)
		snprintf(tag + 2 * k, 3, "%02x", info.tag[k]);
	ebpfdsl_lua_set_str(L, "tag", tag);
	ebpfdsl_lua_set_bool(L, "gpl_compatible", info.gpl_compatible);
	if (nids > 64) { /* more than the first guess: ask again with room */
		uint32_t n = nids;
		list = lua_newuserdatauv(L, nids * sizeof(*list), 0);
		if ((err = ebpfdsl_prog__info(p->fd, &info, list, &n)))
			return ebpfdsl_lua_fail(L, err, "info of '%s'", p->name);
		nids = n < nids ? n : nids;
	}
	lua_createtable(L, (int)nids, 0);
	for (uint32_t i = 0; i < nids; i++) {
		lua_pushinteger(L, list[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "map_ids");
	return 1;
}

/* prog_open_pinned(path) -> Prog | nil, msg, errno: type and name from the
 * kernel, instructions as the kernel translated them. The Prog exists,
 * closed, before the fd does; the instructions go to GC-owned memory. */
static int l_prog_open_pinned(lua_State *L)
{
	const char *path = ebpfdsl_lua_pin_path(L, 1);
	struct bpf_prog_info info;
	struct bpf_insn *insns;
	size_t cnt;
	struct prog *p;
	int err;

	lua_settop(L, 1);
	ebpfdsl_lua_push_prog(L, 0, -1, "", 0); /* 2 */
	p = lua_touserdata(L, 2);
	p->fd = ebpfdsl_lua_open_pin(L, 1, EBPFDSL_OBJ_PROG, "open of pinned program");
	if (p->fd < 0)
		return 3;
	err = ebpfdsl_prog__info(p->fd, &info, NULL, NULL);
	if (err) {
		ebpfdsl_lua_handle_close(L, 2, &ebpfdsl_lua_prog_handle);
		return ebpfdsl_lua_fail(L, err, "info of pinned program %s", path);
	}
	p->type = (int)info.type;
	snprintf(p->name, sizeof(p->name), "%s", info.name);
	cnt = info.xlated_prog_len / sizeof(*insns);
	insns = lua_newuserdatauv(L, cnt ? cnt * sizeof(*insns) : 1, 0); /* 3 */
	if (ebpfdsl_prog__xlated(p->fd, insns, &cnt) == 0 && cnt <= info.xlated_prog_len / sizeof(*insns))
		lua_pushlstring(L, (const char *)insns, cnt * sizeof(*insns));
	else
		lua_pushliteral(L, ""); /* hidden from us: the Prog works without them */
	lua_setiuservalue(L, 2, PROG_UV_INSNS);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, 2, PROG_UV_PIN);
	lua_settop(L, 2);
	return 1;
}

static int l_prog_types(lua_State *L)
{
	return ebpfdsl_lua_push_names(L, ebpfdsl_prog_type_name, 0, 256);
}

/* attach_types() -> {"cgroup_inet_ingress", ...}; attach_type_id(name) ->
 * number | nil */
static int l_attach_types(lua_State *L)
{
	return ebpfdsl_lua_push_names(L, ebpfdsl_attach_type_name, 0, 256);
}

static const luaL_Reg prog_methods[] = {
	{ "test_run", prog_test_run },
	{ "type", prog_type },
	{ "name", prog_name },
	{ "expected_attach_type", prog_expected_attach_type },
	{ "info", prog_info },
	{ NULL, NULL },
};

/* module functions */
static const luaL_Reg prog_functions[] = {
	{ "prog_types", l_prog_types },
	{ "attach_types", l_attach_types },
	{ "prog_open_pinned", l_prog_open_pinned },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_prog(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &ebpfdsl_lua_prog_handle, prog_methods, NULL);
	luaL_getmetatable(L, EBPFDSL_PROG_CLASS);
	lua_getfield(L, -1, "__index");
	ebpfdsl_lua_set_uv_getter(L, EBPFDSL_PROG_CLASS, "insns", PROG_UV_INSNS);
	ebpfdsl_lua_set_uv_getter(L, EBPFDSL_PROG_CLASS, "labels", PROG_UV_LABELS);
	ebpfdsl_lua_set_uv_getter(L, EBPFDSL_PROG_CLASS, "maps", PROG_UV_MAPS);
	lua_pop(L, 2);
	luaL_setfuncs(L, prog_functions, 0);
}
