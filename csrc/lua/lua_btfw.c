/* SPDX-License-Identifier: MIT */
/* ebpfdsl.BTFWriter (BTF built type by type, layouts as clang writes them,
 * kptr fields) and prog_btf: a program's BTF, func_info and line_info. */
#include <string.h>
#include "lua_util.h"

static const char *const WRITER = "ebpfdsl.BTFWriter";

struct lbtfw {
	ebpfdsl_btfw *w; /* NULL once collected */
};

static ebpfdsl_btfw *check_writer(lua_State *L, int idx)
{
	struct lbtfw *u = luaL_checkudata(L, idx, WRITER);
	if (!u->w)
		luaL_error(L, "attempt to use a freed %s", WRITER);
	return u->w;
}

static int writer_gc(lua_State *L)
{
	struct lbtfw *u = luaL_checkudata(L, 1, WRITER);
	ebpfdsl_btfw__free(u->w);
	u->w = NULL;
	return 0;
}

static int writer_tostring(lua_State *L)
{
	struct lbtfw *u = luaL_checkudata(L, 1, WRITER);
	if (!u->w)
		lua_pushfstring(L, "%s (freed)", WRITER);
	else
		lua_pushfstring(L, "%s (%d types)", WRITER, ebpfdsl_btfw__count(u->w));
	return 1;
}

/* btf_writer() -> BTFWriter */
static int l_btf_writer(lua_State *L)
{
	struct lbtfw *u = lua_newuserdatauv(L, sizeof(*u), 0);
	u->w = NULL;
	luaL_setmetatable(L, WRITER);
	u->w = ebpfdsl_btfw__new();
	if (!u->w)
		return luaL_error(L, "btf writer: out of memory");
	return 1;
}

/* A writer's first error is misuse (a bad name, an id that is no type):
 * raised at once, so a later call cannot hide it. */
static int result(lua_State *L, ebpfdsl_btfw *w, int64_t id)
{
	if (id < 0 || ebpfdsl_btfw__error(w))
		return luaL_error(L, "btf writer: %s", ebpfdsl_btfw__error(w) ? ebpfdsl_btfw__error(w) : "failed");
	lua_pushinteger(L, id);
	return 1;
}

static int checkid(lua_State *L, int idx)
{
	lua_Integer v = luaL_checkinteger(L, idx);
	luaL_argcheck(L, v >= 0 && v <= INT32_MAX, idx, "a type id");
	return (int)v;
}

static uint32_t checku32(lua_State *L, int idx)
{
	lua_Integer v = luaL_checkinteger(L, idx);
	luaL_argcheck(L, v >= 0 && v <= (lua_Integer)UINT32_MAX, idx, "0..4294967295");
	return (uint32_t)v;
}

/* The parts of the list at idx, each {fields in the order of part->args},
 * added after the type `id` the call made: id, or -1. */
static int64_t add_parts(lua_State *L, ebpfdsl_btfw *w, const struct ebpfdsl_btfw_part *part, int idx, int64_t id)
{
	lua_Integer n = idx ? (lua_Integer)lua_rawlen(L, idx) : 0;
	for (lua_Integer i = 1; id > 0 && i <= n; i++) {
		struct ebpfdsl_btfw_args a = { .opt = 0 };
		int top = lua_gettop(L), ns = 0, nn = 0;
		if (lua_rawgeti(L, idx, i) != LUA_TTABLE)
			return luaL_error(L, "btf writer: %s %d must be %s", part->what, (int)i, part->shape);
		for (int k = 0; part->args[k]; k++) {
			lua_Integer v;
			lua_rawgeti(L, top + 1, k + 1); /* kept on the stack: a name must live */
			if (part->args[k] == 's')
				a.s[ns++] = lua_tostring(L, -1);
			else if (!ebpfdsl_lua_getinteger(L, -1, &v) || v < 0 ||
				 v > (part->args[k] == 'i' ? INT32_MAX : (lua_Integer)UINT32_MAX))
				return luaL_error(L, "btf writer: %s %d must be %s", part->what, (int)i, part->shape);
			else
				a.n[nn++] = v;
		}
		if (part->add(w, &a))
			id = -1;
		lua_settop(L, top);
	}
	return id;
}

/* w:int(name, size[, "signed" | "char" | "bool"]), w:ptr(type),
 * w:array(elem, n), w:typedef(name, type), w:type_tag(value, type),
 * w:func(name, proto[, "static" | "global" | "extern"]), w:scalar("u32"),
 * w:struct(name, size, {{name, type, bit_offset}, ...}), w:union(...),
 * w:func_proto(ret, {{name, type}, ...}), w:string(s) (-> its offset):
 * one row of ebpfdsl_btfw_calls (upvalue 1) each -> id */
static int w_call(lua_State *L)
{
	const struct ebpfdsl_btfw_call *c = lua_touserdata(L, lua_upvalueindex(1));
	ebpfdsl_btfw *w = check_writer(L, 1);
	struct ebpfdsl_btfw_args a = { .opt = 0 };
	int ns = 0, nn = 0, list = 0;
	for (int i = 0; c->args[i]; i++) {
		int idx = i + 2;
		switch (c->args[i]) {
		case 's': a.s[ns++] = luaL_checkstring(L, idx); break;
		case 'S': a.s[ns++] = luaL_optstring(L, idx, NULL); break;
		case 'i': a.n[nn++] = checkid(L, idx); break;
		case 'u': a.n[nn++] = checku32(L, idx); break;
		case 'l':
			if (!lua_isnoneornil(L, idx)) {
				luaL_checktype(L, idx, LUA_TTABLE);
				list = idx;
			}
			break;
		default: a.opt = luaL_checkoption(L, idx, c->options[0], c->options); break;
		}
	}
	return result(L, w, add_parts(L, w, c->part, list, c->call(w, &a)));
}

/* w:layout(layout[, {kptrs = {path = "task_struct" | {struct=, tag=}}}]) -> id */
static int w_layout(lua_State *L)
{
	ebpfdsl_btfw *w = check_writer(L, 1);
	const ebpfdsl_layout *l = ebpfdsl_lua_tolayout(L, 2);
	struct ebpfdsl_btfw_layout_opts o = { .sz = sizeof(o) };
	struct ebpfdsl_kptrs ks = { NULL, 0 };
	if (!l)
		return luaL_argerror(L, 2, "a layout from structs.define");
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "kptrs") == LUA_TTABLE) {
			size_t n = 0;
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				n++;
				lua_pop(L, 1);
			}
			ks.k = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*ks.k), 0); /* GC-owned */
			lua_pushnil(L);
			while (lua_next(L, -3)) {
				struct ebpfdsl_kptr *k = &ks.k[ks.n];
				char err[256];
				if (lua_type(L, -2) != LUA_TSTRING)
					return luaL_error(L, "kptrs: keys must be field paths");
				memset(k, 0, sizeof(*k));
				if (ebpfdsl_kptr_field(l, lua_tostring(L, -2), k, err, sizeof(err)))
					return luaL_error(L, "%s", err);
				if (lua_type(L, -1) == LUA_TSTRING) {
					k->target = lua_tostring(L, -1);
				} else if (lua_type(L, -1) == LUA_TTABLE) {
					k->target = ebpfdsl_lua_optstr_field(L, lua_gettop(L), "struct", NULL, NULL);
					k->tag = ebpfdsl_lua_optstr_field(L, lua_gettop(L), "tag", NULL, NULL);
				}
				if (!k->target)
					return luaL_error(L, "kptrs['%s']: a kernel struct name, or {struct=, tag=}",
							  lua_tostring(L, -2));
				ks.n++;
				lua_pop(L, 1);
			}
			o.ptr_type = ebpfdsl_kptr_type;
			o.ctx = &ks;
		} else if (!lua_isnil(L, -1)) {
			return luaL_error(L, "kptrs must be a table {path = struct name}");
		}
	}
	return result(L, w, ebpfdsl_btfw__layout(w, l, &o));
}

static int w_count(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_btfw__count(check_writer(L, 1)));
	return 1;
}

/* w:bytes() -> the BTF as the kernel takes it */
static int w_bytes(lua_State *L)
{
	ebpfdsl_btfw *w = check_writer(L, 1);
	size_t size;
	const void *b = ebpfdsl_btfw__bytes(w, &size);
	if (!b)
		return luaL_error(L, "btf writer: %s", ebpfdsl_btfw__error(w));
	lua_pushlstring(L, b, size);
	return 1;
}

static const luaL_Reg writer_methods[] = {
	{ "layout", w_layout },
	{ "count", w_count },
	{ "bytes", w_bytes },
	{ NULL, NULL },
};

static const luaL_Reg writer_meta[] = {
	{ "__gc", writer_gc },
	{ "__close", writer_gc },
	{ "__tostring", writer_tostring },
	{ NULL, NULL },
};

/* The debug info lives in a userdata while Lua strings are made of it,
 * so that a memory error raised half way frees it. */
static const char *const PROG_BTF_BOX = "ebpfdsl.prog_btf_box";

static int box_gc(lua_State *L)
{
	ebpfdsl_prog_btf **box = luaL_checkudata(L, 1, PROG_BTF_BOX);
	ebpfdsl_prog_btf__free(*box);
	*box = NULL;
	return 0;
}

/* ---------------------------------------------------------------------
 * prog_btf(bytes, {name=, labels={[slot]=name}, lines={{slot=, file=,
 *   line=, col=, text=}, ...}, file=})
 *   -> btf, func_info, line_info (bytes each), funcs {{slot=, name=}}
 * --------------------------------------------------------------------- */

static int l_prog_btf(lua_State *L)
{
	size_t len, nlabels = 0, nlines = 0;
	const char *bytes = luaL_checklstring(L, 1, &len);
	const struct bpf_insn *insns = (const struct bpf_insn *)(const void *)bytes;
	struct ebpfdsl_prog_btf_opts o = { .sz = sizeof(o) };
	struct ebpfdsl_label *labels = NULL;
	struct ebpfdsl_line *lines = NULL;
	ebpfdsl_prog_btf *p, **box;
	const struct bpf_func_info *fi;
	const struct bpf_line_info *li;
	const void *btf;
	uint32_t nfi, nli;
	size_t btf_size;

	if (len == 0 || len % sizeof(struct bpf_insn))
		return luaL_error(L, "prog_btf: program bytes must be a non-empty multiple of 8 long");
	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		lua_newtable(L);
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	o.name = ebpfdsl_lua_optstr_field(L, 2, "name", NULL, NULL);
	o.file = ebpfdsl_lua_optstr_field(L, 2, "file", NULL, NULL);
	if (lua_getfield(L, 2, "labels") == LUA_TTABLE) { /* 3 */
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			nlabels++;
			lua_pop(L, 1);
		}
		labels = lua_newuserdatauv(L, (nlabels ? nlabels : 1) * sizeof(*labels), 0); /* 4 */
		nlabels = 0;
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			lua_Integer slot;
			if (ebpfdsl_lua_getinteger(L, -2, &slot) && slot >= 0 && lua_type(L, -1) == LUA_TSTRING) {
				labels[nlabels].slot = (size_t)slot;
				labels[nlabels++].name = lua_tostring(L, -1); /* kept by the labels table */
			}
			lua_pop(L, 1);
		}
	} else {
		lua_pushnil(L); /* 4 */
	}
	if (lua_getfield(L, 2, "lines") == LUA_TTABLE) { /* 5 */
		size_t n = lua_rawlen(L, 5);
		lines = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*lines), 0); /* 6 */
		for (size_t i = 1; i <= n; i++) {
			struct ebpfdsl_line *l = &lines[nlines];
			lua_Integer slot;
			if (lua_rawgeti(L, 5, (lua_Integer)i) != LUA_TTABLE)
				return luaL_error(L, "prog_btf: lines[%d] must be {slot=, file=, line=, col=, text=}", (int)i);
			slot = ebpfdsl_lua_optint_field(L, -1, "slot", -1);
			if (slot < 0 || (nlines && (size_t)slot < lines[nlines - 1].slot))
				return luaL_error(L, "prog_btf: lines[%d]: slots must be given, in order", (int)i);
			l->slot = (size_t)slot;
			l->file = ebpfdsl_lua_optstr_field(L, -1, "file", NULL, NULL);
			l->text = ebpfdsl_lua_optstr_field(L, -1, "text", "", NULL);
			l->line = (uint32_t)ebpfdsl_lua_optint_field(L, -1, "line", 0);
			l->col = (uint32_t)ebpfdsl_lua_optint_field(L, -1, "col", 0);
			lua_pop(L, 1); /* the strings stay alive in the lines table */
			nlines++;
		}
	} else {
		lua_pushnil(L); /* 6 */
	}
	o.labels = labels;
	o.nlabels = nlabels;
	o.lines = lines;
	o.nlines = nlines;
	box = lua_newuserdatauv(L, sizeof(*box), 0); /* 7 */
	*box = NULL;
	luaL_setmetatable(L, PROG_BTF_BOX);
	*box = p = ebpfdsl_prog_btf__new(insns, len / sizeof(*insns), &o);
	if (!p)
		return luaL_error(L, "prog_btf: out of memory");
	if (ebpfdsl_prog_btf__error(p))
		return luaL_error(L, "prog_btf: %s", ebpfdsl_prog_btf__error(p));
	btf = ebpfdsl_prog_btf__btf(p, &btf_size);
	fi = ebpfdsl_prog_btf__func_info(p, &nfi);
	li = ebpfdsl_prog_btf__line_info(p, &nli);
	lua_pushlstring(L, btf, btf_size);
	lua_pushlstring(L, (const char *)fi, nfi * sizeof(*fi));
	lua_pushlstring(L, (const char *)li, nli * sizeof(*li));
	lua_createtable(L, (int)nfi, 0);
	for (uint32_t i = 0; i < nfi; i++) {
		lua_createtable(L, 0, 3);
		ebpfdsl_lua_set_int(L, "slot", fi[i].insn_off);
		ebpfdsl_lua_set_int(L, "type_id", fi[i].type_id);
		ebpfdsl_lua_set_str(L, "name", ebpfdsl_prog_btf__func_name(p, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 4;
}

/* prog_funcs(bytes) -> the slots where its functions start */
static int l_prog_funcs(lua_State *L)
{
	size_t len;
	const char *bytes = luaL_checklstring(L, 1, &len);
	const struct bpf_insn *insns = (const struct bpf_insn *)(const void *)bytes;
	size_t cnt = len / sizeof(*insns);
	int n = ebpfdsl_prog_func_starts(insns, cnt, NULL, 0);
	uint32_t *starts;
	if (n < 0)
		return luaL_error(L, "prog_funcs: out of memory");
	starts = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(*starts), 0);
	ebpfdsl_prog_func_starts(insns, cnt, starts, (size_t)n);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_pushinteger(L, starts[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static const luaL_Reg btfw_functions[] = {
	{ "btf_writer", l_btf_writer },
	{ "prog_btf", l_prog_btf },
	{ "prog_funcs", l_prog_funcs },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_btfw(lua_State *L)
{
	size_t ncalls;
	const struct ebpfdsl_btfw_call *calls = ebpfdsl_btfw_calls(&ncalls);
	ebpfdsl_lua_class(L, WRITER, writer_methods, writer_meta);
	luaL_getmetatable(L, WRITER);
	lua_getfield(L, -1, "__index");
	for (size_t i = 0; i < ncalls; i++) {
		lua_pushlightuserdata(L, (void *)(uintptr_t)&calls[i]);
		lua_pushcclosure(L, w_call, 1);
		lua_setfield(L, -2, calls[i].name);
	}
	lua_pop(L, 2);
	luaL_newmetatable(L, PROG_BTF_BOX);
	lua_pushcfunction(L, box_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_setfuncs(L, btfw_functions, 0);
}
