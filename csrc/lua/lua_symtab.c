/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Symtab: a symbol table from /proc/kallsyms or an ELF file, for
 * naming addresses (ebpfdsl.symbols); and syscall names by number. */
#include <errno.h>
#include "lua_handle.h"
#include "lua_opts.h"

struct symtab_ud {
	ebpfdsl_symtab *t; /* NULL: closed */
};

static void symtab_release(void *t)
{
	ebpfdsl_symtab__free(t);
}

/* " /proc/kallsyms", and open: how many symbols */
static void symtab_describe(lua_State *L, const void *ud, int open)
{
	lua_getiuservalue(L, 1, 1);
	if (open)
		lua_pushfstring(L, " %s (%d symbols)", lua_tostring(L, -1),
				(int)ebpfdsl_symtab__count(((const struct symtab_ud *)ud)->t));
	else
		lua_pushfstring(L, " %s", lua_tostring(L, -1));
	lua_remove(L, -2);
}

static const struct ebpfdsl_lua_handle symtab_handle = {
	.tname = "ebpfdsl.Symtab",
	.noun = "symbol table",
	.release = symtab_release,
	.describe = symtab_describe,
};

#define check_open(L, idx) (((struct symtab_ud *)ebpfdsl_lua_handle_open(L, idx, &symtab_handle))->t)

/* A new closed Symtab with `source` (the file, or "kallsyms") as its user
 * value, so that it is in place before anything is allocated. */
static struct symtab_ud *push_new(lua_State *L, const char *source)
{
	struct symtab_ud *u = ebpfdsl_lua_handle_new(L, &symtab_handle, sizeof(*u), 1);
	lua_pushstring(L, source);
	lua_setiuservalue(L, -2, 1);
	return u;
}

/* kallsyms() and elf_symbols(path) -> Symtab | nil, message, errno */
static int l_open(lua_State *L)
{
	const char *path = lua_isnoneornil(L, lua_upvalueindex(1)) ? NULL : luaL_checkstring(L, 1);
	char err[512] = "";
	struct symtab_ud *u = push_new(L, path ? path : "/proc/kallsyms");
	int e = path ? ebpfdsl_symtab_elf(path, &u->t, err, sizeof(err)) : ebpfdsl_symtab_kallsyms(&u->t, err, sizeof(err));
	if (e)
		return ebpfdsl_lua_fail_msg(L, e, err);
	return 1;
}

static uint64_t check_addr(lua_State *L, int idx)
{
	lua_Integer v = 0;
	if (!ebpfdsl_lua_getinteger(L, idx, &v))
		luaL_typeerror(L, idx, "integer address");
	return (uint64_t)v;
}

/* t:resolve(addr) -> name, offset, module (nil for vmlinux and files) | nil */
static int symtab_resolve(lua_State *L)
{
	const ebpfdsl_symtab *t = check_open(L, 1);
	struct ebpfdsl_sym s;
	uint64_t off;
	if (ebpfdsl_symtab__resolve(t, check_addr(L, 2), &s, &off))
		return 0;
	lua_pushstring(L, s.name);
	lua_pushinteger(L, (lua_Integer)off);
	lua_pushstring(L, s.module); /* nil when NULL */
	return 3;
}

/* t:find(name) -> addr, size, module | nil */
static int symtab_find(lua_State *L)
{
	const ebpfdsl_symtab *t = check_open(L, 1);
	struct ebpfdsl_sym s;
	if (ebpfdsl_symtab__find(t, luaL_checkstring(L, 2), &s))
		return 0;
	lua_pushinteger(L, (lua_Integer)s.addr);
	lua_pushinteger(L, (lua_Integer)s.size);
	lua_pushstring(L, s.module); /* nil when NULL */
	return 3;
}

/* t:at(i) -> {addr =, size =, end_addr =, name =, module =, type =} for i
 * in 1..#t, in address order; nil past the end */
static const struct ebpfdsl_lua_opt sym_rows[] = {
	EBPFDSL_OPT_U64(struct ebpfdsl_sym, "addr", addr), EBPFDSL_OPT_U64(struct ebpfdsl_sym, "size", size),
	EBPFDSL_OPT_U64(struct ebpfdsl_sym, "end_addr", end), EBPFDSL_OPT_STR(struct ebpfdsl_sym, "name", name),
	EBPFDSL_OPT_STR(struct ebpfdsl_sym, "module", module), EBPFDSL_OPT_END,
};

static int symtab_at(lua_State *L)
{
	const ebpfdsl_symtab *t = check_open(L, 1);
	lua_Integer i = luaL_checkinteger(L, 2);
	struct ebpfdsl_sym s;
	if (i < 1 || ebpfdsl_symtab__at(t, (size_t)(i - 1), &s))
		return 0;
	lua_createtable(L, 0, 6);
	ebpfdsl_lua_opts_push(L, &s, sym_rows);
	lua_pushlstring(L, &s.type, s.type != 0); /* "" for none, as before */
	lua_setfield(L, -2, "type");
	return 1;
}

/* t:file_addr(offset) -> the address a file offset is loaded at | nil */
static int symtab_file_addr(lua_State *L)
{
	const ebpfdsl_symtab *t = check_open(L, 1);
	uint64_t a;
	if (ebpfdsl_symtab__file_addr(t, check_addr(L, 2), &a))
		return 0;
	lua_pushinteger(L, (lua_Integer)a);
	return 1;
}

/* t:segments() -> {{vaddr =, offset =, filesz =, memsz =, flags =}, ...} */
#define SEGMENT_ROW(kind, f) EBPFDSL_OPT_##kind(struct ebpfdsl_symtab_segment, #f, f)
static const struct ebpfdsl_lua_opt segment_rows[] = {
	SEGMENT_ROW(U64, vaddr), SEGMENT_ROW(U64, offset), SEGMENT_ROW(U64, filesz),
	SEGMENT_ROW(U64, memsz), SEGMENT_ROW(U32, flags), EBPFDSL_OPT_END,
};

static int symtab_segments(lua_State *L)
{
	const ebpfdsl_symtab *t = check_open(L, 1);
	const struct ebpfdsl_symtab_segment *s;
	size_t n = ebpfdsl_symtab__segments(t, &s);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 5);
		ebpfdsl_lua_opts_push(L, &s[i], segment_rows);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int symtab_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)ebpfdsl_symtab__count(check_open(L, 1)));
	return 1;
}

/* t:source() -> the file it was read from ("/proc/kallsyms" for the kernel) */
static int symtab_source(lua_State *L)
{
	ebpfdsl_lua_handle_check(L, 1, &symtab_handle);
	lua_getiuservalue(L, 1, 1);
	return 1;
}

/* syscall_name(nr) -> "getppid" | nil */
static int l_syscall_name(lua_State *L)
{
	lua_Integer nr = 0;
	const char *name;
	if (!ebpfdsl_lua_getinteger(L, 1, &nr))
		luaL_typeerror(L, 1, "integer");
	name = ebpfdsl_syscall_name((long)nr);
	if (!name)
		return 0;
	lua_pushstring(L, name);
	return 1;
}

/* syscall_nr(name) -> number | nil */
static int l_syscall_nr(lua_State *L)
{
	long nr = ebpfdsl_syscall_nr(luaL_checkstring(L, 1));
	if (nr == -ENOENT)
		return 0;
	lua_pushinteger(L, nr);
	return 1;
}

/* syscalls() -> {name = number, ...} for every syscall */
static int l_syscalls(lua_State *L)
{
	int n = ebpfdsl_syscall_count();
	lua_createtable(L, 0, n);
	for (int i = 0; i < n; i++) {
		long nr = 0;
		const char *name = ebpfdsl_syscall_at(i, &nr);
		lua_pushinteger(L, nr);
		lua_setfield(L, -2, name);
	}
	return 1;
}

static const luaL_Reg symtab_methods[] = {
	{ "resolve", symtab_resolve },
	{ "find", symtab_find },
	{ "at", symtab_at },
	{ "file_addr", symtab_file_addr },
	{ "segments", symtab_segments },
	{ "source", symtab_source },
	{ NULL, NULL },
};

static const luaL_Reg symtab_meta[] = {
	{ "__len", symtab_len },
	{ NULL, NULL },
};

static const luaL_Reg functions[] = {
	{ "kallsyms", l_open },
	{ "syscall_name", l_syscall_name },
	{ "syscall_nr", l_syscall_nr },
	{ "syscalls", l_syscalls },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_symtab(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &symtab_handle, symtab_methods, symtab_meta);
	luaL_setfuncs(L, functions, 0);
	lua_pushboolean(L, 1); /* upvalue: a path comes first */
	lua_pushcclosure(L, l_open, 1);
	lua_setfield(L, -2, "elf_symbols");
}
