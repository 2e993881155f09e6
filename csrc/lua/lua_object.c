/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Object: an ELF object built by clang, opened through libbpf;
 * its programs become ebpfdsl.Prog handles after load, its maps
 * ebpfdsl.Map handles any DSL program can name, its programs attach by
 * section name as ebpfdsl.Link handles. */
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include "lua_btf_value.h"
#include "lua_opts.h"
#include "lua_handle.h"

#define OBJECT "ebpfdsl.Object"

#define MSG_SIZE 4096
#define LOG_SIZE (1024 * 1024)

struct lobject {
	ebpfdsl_object *o; /* NULL: closed */
};

static void obj_release(void *o)
{
	ebpfdsl_object__free(o);
}

static void obj_describe(lua_State *L, const void *ud, int open)
{
	char buf[512];
	if (open)
		lua_pushfstring(L, " %s", ebpfdsl_object__describe(((const struct lobject *)ud)->o, buf, sizeof(buf)));
	else
		lua_pushliteral(L, "");
}

static const struct ebpfdsl_lua_handle obj_handle = {
	.tname = OBJECT,
	.noun = "object",
	.release = obj_release,
	.describe = obj_describe,
};

#define check_open(L, idx) (((struct lobject *)ebpfdsl_lua_handle_open(L, idx, &obj_handle))->o)

/* nil, "<prefix>: <libbpf's reason, or fallback>", err: a failure told
 * with libbpf's last words (prefix stays alive on the stack). */
static int fail_reason(lua_State *L, int err, const char *msg, const char *fallback, const char *prefix)
{
	char why[1024];
	luaL_pushfail(L);
	lua_pushfstring(L, "%s: %s", prefix, ebpfdsl_libbpf_reason(msg, fallback, why, sizeof(why)));
	lua_pushinteger(L, err);
	return 3;
}

/* object_open(path_or_bytes[, name]) -> Object | nil, msg, errno */
static int l_object_open(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "object"); /* prefixes .data/.bss map names */
	int is_elf = len >= 4 && memcmp(s, "\177ELF", 4) == 0;
	struct lobject *u = ebpfdsl_lua_handle_new(L, &obj_handle, sizeof(*u), 0);
	char *msg;
	int err;

	msg = lua_newuserdatauv(L, MSG_SIZE, 0);
	u->o = is_elf ? ebpfdsl_object__open_mem(s, len, name, msg, MSG_SIZE)
		      : ebpfdsl_object__open(s, msg, MSG_SIZE);
	if (!u->o) {
		err = errno;
		if (err >= 4000 && err < 4100) /* libbpf's own codes: a malformed object */
			err = EINVAL;
		return fail_reason(L, err, msg, ebpfdsl_strerror(err),
				   lua_pushfstring(L, "cannot open BPF object %s", is_elf ? "from memory" : s));
	}
	lua_pop(L, 1); /* msg */
	return 1;
}

static int obj_name(lua_State *L)
{
	lua_pushstring(L, ebpfdsl_object__name(check_open(L, 1)));
	return 1;
}

static int obj_loaded(lua_State *L)
{
	lua_pushboolean(L, ebpfdsl_object__loaded(check_open(L, 1)));
	return 1;
}

/* obj:programs()'s and obj:maps()'s descriptions, one row per field */
static const struct ebpfdsl_lua_opt prog_desc_rows[] = {
	EBPFDSL_OPT_STR(struct ebpfdsl_object_prog, "name", name),
	EBPFDSL_OPT_STR(struct ebpfdsl_object_prog, "section", section),
	EBPFDSL_OPT_NAMED(struct ebpfdsl_object_prog, "type", type, ebpfdsl_prog_type_name),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt prog_attach_row[] = {
	EBPFDSL_OPT_NAMED(struct ebpfdsl_object_prog, "expected_attach_type", expected_attach_type,
			  ebpfdsl_attach_type_name),
	EBPFDSL_OPT_END,
};
#define MAP_DESC(kind, f) EBPFDSL_OPT_##kind(struct ebpfdsl_object_map, #f, f)
static const struct ebpfdsl_lua_opt map_desc_rows[] = {
	MAP_DESC(STR, name),
	EBPFDSL_OPT_NAMED(struct ebpfdsl_object_map, "type", type, ebpfdsl_map_type_name),
	MAP_DESC(U32, key_size),
	MAP_DESC(U32, value_size),
	MAP_DESC(U32, max_entries),
	MAP_DESC(U32, flags),
	EBPFDSL_OPT_END,
};

static void push_prog_desc(lua_State *L, const struct ebpfdsl_object_prog *p)
{
	lua_createtable(L, 0, 6);
	ebpfdsl_lua_opts_push(L, p, prog_desc_rows);
	if (p->expected_attach_type >= 0)
		ebpfdsl_lua_opts_push(L, p, prog_attach_row);
	lua_pushlstring(L, (const char *)p->insns, p->insn_cnt * sizeof(struct bpf_insn));
	lua_setfield(L, -2, "insns");
}

static void push_map_desc(lua_State *L, const struct ebpfdsl_object_map *m)
{
	lua_createtable(L, 0, 6);
	ebpfdsl_lua_opts_push(L, m, map_desc_rows);
}

/* obj:programs() -> {{name=, section=, type=, expected_attach_type=,
 *   insns=}, ...} in the object's order */
static int obj_programs(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	struct ebpfdsl_object_prog p;
	size_t n = ebpfdsl_object__prog_count(o);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n && ebpfdsl_object__prog(o, i, &p) == 0; i++) {
		push_prog_desc(L, &p);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* obj:maps() -> {{name=, type=, key_size=, value_size=, max_entries=,
 *   flags=}, ...} */
static int obj_maps(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	struct ebpfdsl_object_map m;
	size_t n = ebpfdsl_object__map_count(o);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n && ebpfdsl_object__map(o, i, &m) == 0; i++) {
		push_map_desc(L, &m);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* The index of the program (or map) named by argument idx */
static size_t index_of(lua_State *L, ebpfdsl_object *o, int idx, int map)
{
	const char *name = luaL_checkstring(L, idx);
	int i = map ? ebpfdsl_object__find_map(o, name) : ebpfdsl_object__find_prog(o, name);
	if (i < 0)
		luaL_error(L, "%s %s has no %s '%s'", OBJECT, ebpfdsl_object__name(o), map ? "map" : "program", name);
	return (size_t)i;
}
#define prog_index(L, o, idx) index_of(L, o, idx, 0)
#define map_index(L, o, idx) index_of(L, o, idx, 1)

/* obj:program(name) -> the description obj:programs() lists */
static int obj_program(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	struct ebpfdsl_object_prog p;
	ebpfdsl_object__prog(o, prog_index(L, o, 2), &p);
	push_prog_desc(L, &p);
	return 1;
}

/* obj:set_autoload(name, on) -> obj: before load, leaves a program out */
static int obj_set_autoload(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	size_t i = prog_index(L, o, 2);
	if (ebpfdsl_object__loaded(o))
		return luaL_error(L, "set_autoload: %s %s is already loaded", OBJECT, ebpfdsl_object__name(o));
	ebpfdsl_object__set_autoload(o, i, lua_toboolean(L, 3));
	lua_settop(L, 1);
	return 1;
}

/* obj:reuse_map(name, map_or_fd) -> obj | nil, msg, errno: before load,
 * the object's map becomes an existing one (a Map, a DSL program's map,
 * another object's map, or an fd), so both sides share it. libbpf keeps
 * a dup of the fd: the Map given may be closed or collected meanwhile. */
static int obj_reuse_map(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	size_t i = map_index(L, o, 2);
	int fd = ebpfdsl_lua_tofd(L, 3, "reuse_map"), err;
	if (ebpfdsl_object__loaded(o))
		return luaL_error(L, "reuse_map: %s %s is already loaded", OBJECT, ebpfdsl_object__name(o));
	err = ebpfdsl_object__reuse_map(o, i, fd);
	if (err)
		return ebpfdsl_lua_fail(L, err, "reuse_map '%s' of %s", lua_tostring(L, 2), ebpfdsl_object__name(o));
	lua_settop(L, 1);
	return 1;
}

/* ---------------------------------------------------------------------
 * global variables of .rodata, .data, .bss
 * --------------------------------------------------------------------- */

static size_t var_index(lua_State *L, ebpfdsl_object *o, int idx, const char *fname)
{
	const char *name = luaL_checkstring(L, idx);
	int i = ebpfdsl_object__find_var(o, name);
	char why[1024];
	if (i < 0) {
		ebpfdsl_object__var_missing(o, name, why, sizeof(why));
		luaL_error(L, "%s: %s %s %s", fname, OBJECT, ebpfdsl_object__name(o), why);
	}
	return (size_t)i;
}

#define VAR_DESC(kind, f) EBPFDSL_OPT_##kind(struct ebpfdsl_object_var, #f, f)
static const struct ebpfdsl_lua_opt var_desc_rows[] = {
	VAR_DESC(STR, name), VAR_DESC(STR, section), VAR_DESC(U32, offset),
	VAR_DESC(U32, size), VAR_DESC(BOOL, readonly), EBPFDSL_OPT_END,
};

static void push_var_desc(lua_State *L, ebpfdsl_object *o, const struct ebpfdsl_object_var *v)
{
	char tname[160];
	struct ebpfdsl_object_map m;
	ebpfdsl_lua_btf_type_text(ebpfdsl_object__btf(o), v->type, tname, sizeof(tname));
	lua_createtable(L, 0, 7);
	ebpfdsl_lua_opts_push(L, v, var_desc_rows);
	if (ebpfdsl_object__map(o, v->map, &m) == 0)
		ebpfdsl_lua_set_str(L, "map", m.name);
	ebpfdsl_lua_set_str(L, "type", tname);
}

/* obj:vars() -> {{name=, section=, map=, offset=, size=, type=, readonly=}, ...}:
 * the global variables, in section order */
static int obj_vars(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	struct ebpfdsl_object_var v;
	size_t i = 0;
	lua_newtable(L);
	for (; ebpfdsl_object__var(o, i, &v) == 0; i++) {
		push_var_desc(L, o, &v);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* obj:var(name) -> its value: before load the image the object will be
 * loaded with, after load what the kernel's map holds now */
static int obj_var(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	size_t i = var_index(L, o, 2, "var");
	struct ebpfdsl_object_var v;
	void *buf;
	int err;
	ebpfdsl_object__var(o, i, &v);
	buf = lua_newuserdatauv(L, v.size ? v.size : 1, 0);
	err = ebpfdsl_object__read_var(o, i, buf);
	if (err)
		return ebpfdsl_lua_fail(L, err, "var '%s' of %s", v.name, ebpfdsl_object__name(o));
	ebpfdsl_lua_btf_push(L, ebpfdsl_object__btf(o), v.type, buf);
	return 1;
}

/* obj:set_var(name, value) -> obj | nil, msg, errno. Before load, sets
 * what the object is loaded with (a .rodata `const volatile` the
 * verifier then sees as a constant); after load, writes .data and .bss
 * in the kernel's map. Typed by the object's BTF: integers, booleans,
 * enum names, strings for char arrays, lists, tables of members (what a
 * table leaves out keeps its value); a string for any other type is its
 * raw bytes, exactly its size. */
static int obj_set_var(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	size_t i = var_index(L, o, 2, "set_var");
	const ebpfdsl_btf *b = ebpfdsl_object__btf(o);
	struct ebpfdsl_object_var v;
	void *buf;
	int err;

	luaL_checkany(L, 3);
	lua_settop(L, 3);
	ebpfdsl_object__var(o, i, &v);
	if (ebpfdsl_object__loaded(o) && v.readonly)
		return luaL_error(L, "set_var: '%s' is in %s, which the kernel froze at load: set it before load()",
				  v.name, v.section);
	buf = lua_newuserdatauv(L, v.size ? v.size : 1, 0);
	err = ebpfdsl_object__read_var(o, i, buf);
	if (err)
		return ebpfdsl_lua_fail(L, err, "set_var '%s' of %s", v.name, ebpfdsl_object__name(o));
	if (lua_type(L, 3) == LUA_TSTRING && !v.text) {
		size_t len;
		const char *s = lua_tolstring(L, 3, &len);
		char tname[160];
		if (len != v.size) {
			ebpfdsl_lua_btf_type_text(b, v.type, tname, sizeof(tname));
			return luaL_error(L, "set_var: %s is %s (%d bytes): a string is taken as its raw bytes, got %d",
					  v.name, tname, (int)v.size, (int)len);
		}
		memcpy(buf, s, len);
	} else {
		ebpfdsl_lua_btf_put(L, b, v.type, 3, buf, "set_var", v.name);
	}
	err = ebpfdsl_object__write_var(o, i, buf);
	if (err)
		return ebpfdsl_lua_fail(L, err, "set_var '%s' of %s", v.name, ebpfdsl_object__name(o));
	lua_settop(L, 1);
	return 1;
}

/* obj:load() -> obj | nil, msg, errno, log, raw log: a refused program's
 * message and log are explained like programs.load's */
static int obj_load(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	char *log = lua_newuserdatauv(L, LOG_SIZE, 0), why[3072];
	struct ebpfdsl_object_prog p = { 0 };
	size_t off, len;
	int err = ebpfdsl_object__load(o, log, LOG_SIZE), pi;

	if (err == 0) {
		lua_settop(L, 1);
		return 1;
	}
	if (err == -EALREADY)
		return luaL_error(L, "load: %s %s is already loaded", OBJECT, ebpfdsl_object__name(o));
	pi = ebpfdsl_object__load_failure(o, err, log, why, sizeof(why), &off, &len);
	luaL_pushfail(L);
	lua_pushfstring(L, "load of %s%s%s", ebpfdsl_object__name(o), off ? ": " : " failed: ", why);
	lua_pushinteger(L, -err);
	if (!off) {
		lua_pushstring(L, log);
		return 4;
	}
	if (pi >= 0)
		ebpfdsl_object__prog(o, (size_t)pi, &p);
	/* as programs.load: the log in our disassembly, then the kernel's */
	lua_pushlstring(L, log + off, len);
	ebpfdsl_lua_push_annotated(L, lua_tostring(L, -1), p.insns, p.insn_cnt, NULL, 0);
	lua_insert(L, -2);
	return 5;
}

/* A new ebpfdsl.Prog of a loaded program: its own fd, with the
 * instructions the kernel was given. Pushes it and returns 1, or pushes
 * nil, msg, errno and returns 3. The Prog is made before the fd is dup'ed,
 * so that nothing raising in between can leak it. */
static int push_prog(lua_State *L, const struct ebpfdsl_object_prog *p)
{
	int *fd;
	lua_pushlstring(L, (const char *)p->insns, p->insn_cnt * sizeof(struct bpf_insn));
	fd = ebpfdsl_lua_push_prog(L, p->type, p->expected_attach_type, p->name, -1);
	lua_remove(L, -2);
	*fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 0);
	if (*fd < 0)
		return ebpfdsl_lua_fail(L, errno, "prog '%s'", p->name);
	return 1;
}

/* obj:prog(name) -> ebpfdsl.Prog after load */
static int obj_prog(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	struct ebpfdsl_object_prog p;
	ebpfdsl_object__prog(o, prog_index(L, o, 2), &p);
	if (p.fd < 0)
		return luaL_error(L, "prog: '%s' of %s is not loaded%s", p.name, ebpfdsl_object__name(o),
				  ebpfdsl_object__loaded(o) ? " (autoload was off)" : "; call load() first");
	return push_prog(L, &p);
}

/* obj:map(name[, {key=, value=}]) -> ebpfdsl.Map after load: its own fd
 * on the same kernel map, through maps.open_id (core is upvalue 1) */
static int obj_map(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	struct ebpfdsl_object_map d;
	ebpfdsl_object__map(o, map_index(L, o, 2), &d);
	if (!d.id)
		return luaL_error(L, "map: '%s' of %s has no fd yet; call load() first", d.name,
				  ebpfdsl_object__name(o));
	lua_settop(L, 3);
	lua_getfield(L, lua_upvalueindex(1), "map_open_id");
	lua_pushinteger(L, d.id);
	lua_pushvalue(L, 3);
	lua_call(L, 2, 3);
	return 3;
}

/* The Link of obj:attach and obj:register, made by fn (keeping the
 * object, argument 1, and the Prog at prog_idx, or none: 0). */
static int object_link(lua_State *L, int (*fn)(ebpfdsl_object *, size_t, ebpfdsl_link **, char *, size_t),
		       ebpfdsl_object *o, size_t i, int prog_idx, const char *prefix)
{
	char *msg = lua_newuserdatauv(L, MSG_SIZE, 0);
	ebpfdsl_link *l = NULL, **slot = ebpfdsl_lua_new_link(L, prog_idx, 1);
	int err = -fn(o, i, &l, msg, MSG_SIZE);
	if (!err) {
		*slot = l;
		return 1;
	}
	if (!*msg && err == EOPNOTSUPP)
		return fail_reason(L, err, "", "libbpf cannot attach this section by itself", prefix);
	return fail_reason(L, err, msg, ebpfdsl_strerror(err), prefix);
}

/* obj:attach(name) -> ebpfdsl.Link | nil, msg, errno: attaches as the
 * program's section says. The link keeps the object alive (libbpf's link
 * may use the object's maps to detach); link:prog() is the program as
 * obj:prog(name) gives it. */
static int obj_attach(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	size_t i = prog_index(L, o, 2);
	struct ebpfdsl_object_prog p;

	ebpfdsl_object__prog(o, i, &p);
	if (!ebpfdsl_object__loaded(o))
		return luaL_error(L, "attach: %s %s is not loaded; call load() first", OBJECT, ebpfdsl_object__name(o));
	lua_settop(L, 2);
	if (p.fd < 0) /* autoload was off: libbpf says why it cannot attach */
		lua_pushnil(L);
	else if (push_prog(L, &p) != 1)
		return 3;
	return object_link(L, ebpfdsl_object__attach, o, i, 3,
			   lua_pushfstring(L, "attach of '%s' (section %s)", p.name, p.section));
}

/* obj:register(map_name) -> ebpfdsl.Link | nil, msg, errno: the
 * object's struct_ops map (a SEC(".struct_ops") variable) registered with
 * the kernel, after load; detach unregisters. The link keeps the object. */
static int obj_register(lua_State *L)
{
	ebpfdsl_object *o = check_open(L, 1);
	size_t i = map_index(L, o, 2);
	struct ebpfdsl_object_map d;

	ebpfdsl_object__map(o, i, &d);
	if (d.type != BPF_MAP_TYPE_STRUCT_OPS)
		return luaL_error(L, "register: map '%s' of %s is a %s map, not a struct_ops one", d.name,
				  ebpfdsl_object__name(o), d.type_name ? d.type_name : "?");
	if (!ebpfdsl_object__loaded(o))
		return luaL_error(L, "register: %s %s is not loaded; call load() first", OBJECT, ebpfdsl_object__name(o));
	lua_settop(L, 2);
	return object_link(L, ebpfdsl_object__register, o, i, 0,
			   lua_pushfstring(L, "register of struct_ops '%s'", d.name));
}

static const luaL_Reg obj_methods[] = {
	{ "name", obj_name },
	{ "loaded", obj_loaded },
	{ "programs", obj_programs },
	{ "maps", obj_maps },
	{ "program", obj_program },
	{ "set_autoload", obj_set_autoload },
	{ "reuse_map", obj_reuse_map },
	{ "vars", obj_vars },
	{ "var", obj_var },
	{ "set_var", obj_set_var },
	{ "load", obj_load },
	{ "prog", obj_prog },
	{ "attach", obj_attach },
	{ "register", obj_register },
	{ NULL, NULL },
};

/* methods with the module table as upvalue 1 */
static const luaL_Reg obj_module_methods[] = {
	{ "map", obj_map },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_object(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &obj_handle, obj_methods, NULL);
	/* obj:map() makes ebpfdsl.Map handles through the module table */
	lua_pushvalue(L, -1);
	ebpfdsl_lua_class_extend(L, OBJECT, obj_module_methods, 1);
	lua_pushcfunction(L, l_object_open);
	lua_setfield(L, -2, "object_open");
}
