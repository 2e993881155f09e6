/* SPDX-License-Identifier: MIT */
/* Shared pieces of the binding; see lua_util.h. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lua_util.h"

void ebpfdsl_lua_class(lua_State *L, const char *tname, const luaL_Reg *methods, const luaL_Reg *meta)
{
	luaL_newmetatable(L, tname);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

void ebpfdsl_lua_class_extend(lua_State *L, const char *tname, const luaL_Reg *methods, int nup)
{
	if (luaL_getmetatable(L, tname) != LUA_TTABLE)
		luaL_error(L, "%s: extended before it was made", tname);
	lua_getfield(L, -1, "__index");
	lua_replace(L, -2);         /* the method table, in place of the metatable */
	lua_insert(L, -(nup + 1));  /* below the upvalues */
	luaL_setfuncs(L, methods, nup);
	lua_pop(L, 1);
}

static int vfail(lua_State *L, int err, const char *said, const char *fmt, va_list ap)
{
	char what[512];
	if (err < 0)
		err = -err;
	vsnprintf(what, sizeof(what), fmt, ap);
	luaL_pushfail(L);
	if (said)
		lua_pushfstring(L, "%s: %s (libbpf: %s)", what, ebpfdsl_strerror(err), said);
	else
		lua_pushfstring(L, "%s: %s", what, ebpfdsl_strerror(err));
	lua_pushinteger(L, err);
	return 3;
}

int ebpfdsl_lua_fail(lua_State *L, int err, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vfail(L, err, NULL, fmt, ap);
	va_end(ap);
	return n;
}

int ebpfdsl_lua_fail_libbpf(lua_State *L, int err, const char *fmt, ...)
{
	const char *said = ebpfdsl_libbpf_said();
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vfail(L, err, said, fmt, ap);
	va_end(ap);
	return n;
}

int ebpfdsl_lua_fail_msg(lua_State *L, int err, const char *msg)
{
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	lua_pushinteger(L, err < 0 ? -err : err);
	return 3;
}

void ebpfdsl_lua_set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

void ebpfdsl_lua_set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

void ebpfdsl_lua_set_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

/* Option tables are plain data and are read raw: an __index function
 * could make up a value that nothing holds once it is popped (a string
 * the collector may free while C still reads it), or change the table
 * between two reads. */
lua_Integer ebpfdsl_lua_optint_field(lua_State *L, int idx, const char *field, lua_Integer def)
{
	lua_Integer v = def;
	idx = lua_absindex(L, idx);
	lua_pushstring(L, field);
	if (lua_rawget(L, idx) != LUA_TNIL && !ebpfdsl_lua_getinteger(L, -1, &v))
		luaL_error(L, "field '%s' must be an integer, got %s", field, luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

const char *ebpfdsl_lua_optstr_field(lua_State *L, int idx, const char *field, const char *def, size_t *len)
{
	const char *s = def;
	if (len)
		*len = def ? strlen(def) : 0;
	idx = lua_absindex(L, idx);
	lua_pushstring(L, field);
	if (lua_rawget(L, idx) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "field '%s' must be a string, got %s", field, luaL_typename(L, -1));
		s = lua_tolstring(L, -1, len);
	}
	lua_pop(L, 1); /* the string stays alive: the table itself holds it */
	return s;
}

int ebpfdsl_lua_has_method(lua_State *L, int idx, const char *name)
{
	int t = lua_type(L, idx), ok;
	idx = lua_absindex(L, idx);
	if (t == LUA_TUSERDATA) {
		if (luaL_getmetafield(L, idx, "__index") == LUA_TNIL)
			return 0;
		lua_pop(L, 1);
	} else if (t != LUA_TTABLE) {
		return 0;
	}
	lua_getfield(L, idx, name);
	ok = lua_isfunction(L, -1);
	if (!ok && luaL_getmetafield(L, -1, "__call") != LUA_TNIL) {
		ok = 1;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return ok;
}

int ebpfdsl_lua_tofd(lua_State *L, int idx, const char *what)
{
	lua_Integer fd;
	int isnum = 0, t;
	luaL_Stream *s;

	idx = lua_absindex(L, idx);
	t = lua_type(L, idx);
	if (t == LUA_TNUMBER) {
		fd = lua_tointegerx(L, idx, &isnum);
	} else if ((s = luaL_testudata(L, idx, LUA_FILEHANDLE)) != NULL) {
		if (!s->closef)
			return luaL_error(L, "%s: attempt to use a closed file", what);
		fd = fileno(s->f);
		isnum = 1;
	} else {
		const char *m = ebpfdsl_lua_has_method(L, idx, "fd")      ? "fd"
				: ebpfdsl_lua_has_method(L, idx, "getfd") ? "getfd" /* LuaSocket */
									  : NULL;
		if (!m && (t == LUA_TUSERDATA || t == LUA_TTABLE))
			return luaL_error(L, "%s: %s has no fd method", what, luaL_typename(L, idx));
		if (!m)
			return luaL_error(L, "%s: expected an fd, a file, or an object with :fd() or :getfd(), got %s",
					  what, luaL_typename(L, idx));
		lua_getfield(L, idx, m);
		lua_pushvalue(L, idx);
		lua_call(L, 1, 1);
		fd = lua_tointegerx(L, -1, &isnum);
		lua_pop(L, 1);
	}
	if (!isnum || fd < 0 || fd > INT_MAX)
		return luaL_error(L, "%s: not a valid file descriptor", what);
	return (int)fd;
}

int ebpfdsl_lua_valid_name(const char *s)
{
	if (strlen(s) >= BPF_OBJ_NAME_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.'))
			return 0;
	return 1;
}

const char *ebpfdsl_lua_pin_path(lua_State *L, int idx)
{
	const char *path = luaL_checkstring(L, idx);
	if (path[0] != '/')
		luaL_argerror(L, idx, "a pin path must be absolute");
	return path;
}

const char *ebpfdsl_lua_pin_hint(int err, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	if (err == -ENOENT || err == ENOENT || n >= sizeof(dir))
		return "";
	memcpy(dir, path, n);
	dir[n] = '\0';
	return ebpfdsl_bpffs_is(n ? dir : "/") == 0 ? " (its directory is not on a bpf filesystem)" : "";
}

const char *ebpfdsl_lua_unpin_hint(int err, const char *path)
{
	if (err == -EEXIST || err == EEXIST)
		return " (another object is pinned there)";
	return ebpfdsl_lua_pin_hint(err, path);
}

int ebpfdsl_lua_open_pin(lua_State *L, int idx, int kind, const char *what)
{
	const char *path = ebpfdsl_lua_pin_path(L, idx);
	int found, fd = ebpfdsl_obj__open_kind(path, kind, &found);
	if (fd == -EMFILE || fd == -ENFILE) {
		/* objects dropped but not yet collected still hold their fds */
		lua_gc(L, LUA_GCCOLLECT);
		fd = ebpfdsl_obj__open_kind(path, kind, &found);
	}
	if (fd >= 0)
		return fd;
	if (found < 0) {
		ebpfdsl_lua_fail(L, fd, "%s %s%s", what, path, ebpfdsl_lua_pin_hint(fd, path));
		return -1;
	}
	luaL_pushfail(L);
	if (found == EBPFDSL_OBJ_OTHER)
		lua_pushfstring(L, "%s %s: the pin is not a BPF object", what, path);
	else
		lua_pushfstring(L, "%s %s: the pin is a %s, not a %s", what, path, ebpfdsl_obj_kind_name(found),
				ebpfdsl_obj_kind_name(kind));
	lua_pushinteger(L, -fd);
	return -1;
}

int ebpfdsl_lua_pin(lua_State *L, int fd, int uv)
{
	const char *path = ebpfdsl_lua_pin_path(L, 2);
	int err = ebpfdsl_obj__pin(fd, path);
	if (err)
		return err;
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 1, uv);
	return 0;
}

int ebpfdsl_lua_unpin(lua_State *L, int fd, int uv, const char *noun)
{
	const char *path;
	int err;
	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		if (lua_getiuservalue(L, 1, uv) != LUA_TSTRING)
			return luaL_error(L, "unpin: this %s was not pinned through this handle; give the path", noun);
	}
	lua_settop(L, 2);
	path = ebpfdsl_lua_pin_path(L, 2);
	err = ebpfdsl_obj__unpin_own(fd, path);
	if (err)
		return err;
	lua_getiuservalue(L, 1, uv);
	if (lua_rawequal(L, -1, 2)) {
		lua_pushnil(L);
		lua_setiuservalue(L, 1, uv);
	}
	lua_pop(L, 1);
	return 0;
}

int ebpfdsl_lua_push_names(lua_State *L, const char *(*name)(int), int from, int to)
{
	int k = 0;
	lua_newtable(L);
	for (int i = from; i < to; i++) {
		const char *s = name(i);
		if (!s)
			continue;
		lua_pushstring(L, s);
		lua_rawseti(L, -2, ++k);
	}
	return 1;
}

/* A getter of user value upvalue(2) of a userdata of class upvalue(1). */
static int uservalue_getter(lua_State *L)
{
	luaL_checkudata(L, 1, lua_tostring(L, lua_upvalueindex(1)));
	lua_getiuservalue(L, 1, (int)lua_tointeger(L, lua_upvalueindex(2)));
	return 1;
}

void ebpfdsl_lua_set_uv_getter(lua_State *L, const char *tname, const char *name, int uv)
{
	lua_pushstring(L, tname);
	lua_pushinteger(L, uv);
	lua_pushcclosure(L, uservalue_getter, 2);
	lua_setfield(L, -2, name);
}
