/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Link: one attachment of a program, whatever made it (prog:attach_*
 * in lua_attach.c, obj:attach, a pin); detach, pin, info. */
#include <errno.h>
#include <string.h>
#include "lua_link.h"
#include "lua_opts.h"

/* user value 1: the Prog the link runs, kept alive as long as the link;
 * 2: what else the attachment needs alive (the ebpfdsl.Object of a link
 * libbpf made) */
struct link_ud {
	ebpfdsl_link *l; /* NULL: closed */
};

#define ERRLEN 1024

static void link_release(void *l)
{
	ebpfdsl_link__free(l);
}

static int link_gone(const void *ud)
{
	return ebpfdsl_link__detached(((const struct link_ud *)ud)->l);
}

/* " kind target (prog 'name', fd=5, ...)": the Prog's name through its
 * own name(), as the Prog might be any object with one */
static void link_describe(lua_State *L, const void *ud, int open)
{
	const struct link_ud *u = ud;
	const char *pname = NULL;
	char buf[1024];
	int top = lua_gettop(L);
	if (!open) {
		lua_pushliteral(L, "");
		return;
	}
	if (lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA) { /* the Prog it runs */
		pname = "?";
		if (lua_getfield(L, -1, "name") == LUA_TFUNCTION) {
			lua_pushvalue(L, -2);
			lua_call(L, 1, 1);
			pname = lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
		}
	}
	lua_pushfstring(L, " %s", ebpfdsl_link__describe(u->l, pname, buf, sizeof(buf)));
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
}

/* link:fd(): a bpf link's; an attachment that is not one has none */
static int link_fd(lua_State *L, const void *ud)
{
	const ebpfdsl_link *l = ((const struct link_ud *)ud)->l;
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

/* Its pin is the C link's (one at a time): pin and unpin are below. */
static const struct ebpfdsl_lua_handle link_handle = {
	.tname = EBPFDSL_LINK_CLASS,
	.noun = "link",
	.release = link_release,
	.gone = link_gone,
	.describe = link_describe,
	.fd = link_fd,
};

/* The link at 1, NULL when closed (its getters then return nothing) */
#define link_at_1(L) (((struct link_ud *)ebpfdsl_lua_handle_check(L, 1, &link_handle))->l)

ebpfdsl_link *ebpfdsl_lua_link_check_open(lua_State *L, int idx)
{
	return ((struct link_ud *)ebpfdsl_lua_handle_open(L, idx, &link_handle))->l;
}

static int link_kind(lua_State *L)
{
	const ebpfdsl_link *l = link_at_1(L);
	if (!l)
		return 0;
	lua_pushstring(L, ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)));
	return 1;
}

static int link_target(lua_State *L)
{
	const ebpfdsl_link *l = link_at_1(L);
	if (!l)
		return 0;
	lua_pushstring(L, ebpfdsl_link__target(l));
	return 1;
}

static int link_count(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_link__count(ebpfdsl_lua_link_check_open(L, 1)));
	return 1;
}

/* link:pin(path) -> link | nil, msg, errno. The pin is the C link's,
 * which keeps one at a time. */
static int link_pin(lua_State *L)
{
	ebpfdsl_link *l = ebpfdsl_lua_link_check_open(L, 1);
	const char *path = ebpfdsl_lua_pin_path(L, 2);
	const char *kind = ebpfdsl_link_kind_name(ebpfdsl_link__kind(l));
	int e = ebpfdsl_link__pin(l, path);
	if (e == -ENOTSUP)
		return ebpfdsl_lua_fail(L, e, "pin of %s link at %s: only bpf links can be pinned", kind, path);
	if (e == -EBUSY)
		return ebpfdsl_lua_fail(L, e, "pin at %s: already pinned at %s", path, ebpfdsl_link__pin_path(l));
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "pin of %s link at %s%s", kind, path, ebpfdsl_lua_pin_hint(e, path));
	lua_settop(L, 1);
	return 1;
}

/* link:unpin([path]) -> link | nil, msg, errno: the pin link:pin made,
 * or the one named (forgotten if it is that one); with no path and no pin
 * of its own it raises, as maps and programs do */
static int link_unpin(lua_State *L)
{
	ebpfdsl_link *l = ebpfdsl_lua_link_check_open(L, 1);
	const char *mine = ebpfdsl_link__pin_path(l), *path;
	int e;
	if (lua_isnoneornil(L, 2)) {
		if (!mine)
			return luaL_error(L, "unpin: this link was not pinned through this handle; give the path");
		lua_settop(L, 1);
		lua_pushstring(L, mine);
	}
	path = ebpfdsl_lua_pin_path(L, 2);
	if (mine && strcmp(path, mine) == 0)
		e = ebpfdsl_link__unpin(l);
	else
		e = ebpfdsl_obj__unpin_own(ebpfdsl_link__fd(l), path);
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "unpin of %s%s", path, ebpfdsl_lua_unpin_hint(e, path));
	lua_settop(L, 1);
	return 1;
}

static int link_pin_path(lua_State *L)
{
	const ebpfdsl_link *l = link_at_1(L);
	if (!l || !ebpfdsl_link__pin_path(l))
		return 0;
	lua_pushstring(L, ebpfdsl_link__pin_path(l));
	return 1;
}

/* link:info()'s fields beyond type, id, prog_id and name: the rows of
 * each link type's part of the kernel's bpf_link_info, and whether it
 * names an attach type. */
#define LI(k) EBPFDSL_OPT_U32(struct ebpfdsl_link_info, #k, k)
#define LI64(k) EBPFDSL_OPT_U64(struct ebpfdsl_link_info, #k, k)
static const struct ebpfdsl_lua_opt li_common[] = { LI(id), LI(prog_id), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_tracing[] = { LI(target_obj_id), LI(target_btf_id), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_cgroup[] = { LI64(cgroup_id), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_netns[] = { LI(netns_ino), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_xdp[] = { LI(ifindex), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_iter[] = { LI(map_id), EBPFDSL_OPT_END };
static const struct {
	uint32_t type;
	int attach_type;
	const struct ebpfdsl_lua_opt *rows;
} link_types[] = {
	{ BPF_LINK_TYPE_TRACING, 1, li_tracing }, { BPF_LINK_TYPE_CGROUP, 1, li_cgroup },
	{ BPF_LINK_TYPE_NETNS, 1, li_netns },     { BPF_LINK_TYPE_XDP, 0, li_xdp },
	{ BPF_LINK_TYPE_ITER, 0, li_iter }, /* map_id: map iterators only (not 0) */
};

/* perf_event links (6.6+): by the event's type, enum bpf_perf_event_type */
static const struct ebpfdsl_lua_optname perf_types[] = {
	{ "unspec", 0, 0 },    { "uprobe", 1, 0 },     { "uretprobe", 2, 0 }, { "kprobe", 3, 0 },
	{ "kretprobe", 4, 0 }, { "tracepoint", 5, 0 }, { "event", 6, 0 },     { NULL, 0, 0 },
};
#define LI_PERF                                                                                      \
	EBPFDSL_OPT_ENUM(struct ebpfdsl_link_info, "perf_event_type", perf_event_type, 0, perf_types), \
		LI64(cookie)
static const struct ebpfdsl_lua_opt li_probe[] = { LI_PERF, LI(offset), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_tp[] = { LI_PERF, EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt li_event[] = { LI_PERF, LI64(config), EBPFDSL_OPT_END };
static const struct ebpfdsl_lua_opt *const li_perf[] = { li_tp, li_probe, li_probe, li_probe, li_probe, li_tp, li_event };

static int link_info(lua_State *L)
{
	ebpfdsl_link *l = ebpfdsl_lua_link_check_open(L, 1);
	struct ebpfdsl_link_info i = { .sz = sizeof(i) };
	const char *kind = ebpfdsl_link_kind_name(ebpfdsl_link__kind(l));
	const char *tname, *aname;
	int e = ebpfdsl_link__info(l, &i);
	if (e == -ENOTSUP)
		return ebpfdsl_lua_fail(L, e, "info: a %s attachment is not a single bpf link", kind);
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "info of %s link", kind);
	lua_createtable(L, 0, 8);
	tname = ebpfdsl_link_type_name((int)i.type);
	ebpfdsl_lua_set_str(L, "type", tname ? tname : "unknown");
	ebpfdsl_lua_opts_push(L, &i, li_common);
	for (size_t k = 0; k < sizeof(link_types) / sizeof(link_types[0]); k++) {
		if (link_types[k].type != i.type || (i.type == BPF_LINK_TYPE_ITER && !i.map_id))
			continue;
		ebpfdsl_lua_opts_push(L, &i, link_types[k].rows);
		if (link_types[k].attach_type && (aname = ebpfdsl_attach_type_name((int)i.attach_type)))
			ebpfdsl_lua_set_str(L, "attach_type", aname);
	}
	if (i.type == BPF_LINK_TYPE_PERF_EVENT && i.perf_event_type)
		ebpfdsl_lua_opts_push(L, &i, i.perf_event_type < 7 ? li_perf[i.perf_event_type] : li_tp);
	if (i.name[0])
		ebpfdsl_lua_set_str(L, "name", i.name);
	return 1;
}

ebpfdsl_link **ebpfdsl_lua_new_link(lua_State *L, int prog_idx, int owner_idx)
{
	struct link_ud *u;
	prog_idx = prog_idx ? lua_absindex(L, prog_idx) : 0;
	owner_idx = owner_idx ? lua_absindex(L, owner_idx) : 0;
	u = ebpfdsl_lua_handle_new(L, &link_handle, sizeof(*u), 2);
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

int ebpfdsl_lua_link_finish(lua_State *L, ebpfdsl_link **slot, int e, ebpfdsl_link *l, const char *err)
{
	if (e < 0)
		return ebpfdsl_lua_fail_msg(L, e, err);
	*slot = l;
	return 1;
}

/* link_open_pinned(path) -> Link | nil, msg, errno */
static int l_link_open_pinned(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char err[ERRLEN];
	ebpfdsl_link *l = NULL;
	ebpfdsl_link **u;
	int e;
	ebpfdsl_lua_pin_path(L, 1);
	u = ebpfdsl_lua_new_link(L, 0, 0); /* no Prog: the kernel holds it */
	e = ebpfdsl_link_open_pinned(path, &l, err, sizeof(err));
	return ebpfdsl_lua_link_finish(L, u, e, l, err);
}

static const luaL_Reg link_methods[] = {
	{ "kind", link_kind },
	{ "target", link_target },
	{ "count", link_count },
	{ "pin", link_pin },
	{ "unpin", link_unpin },
	{ "pin_path", link_pin_path },
	{ "info", link_info },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_link(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &link_handle, link_methods, NULL);
	luaL_getmetatable(L, EBPFDSL_LINK_CLASS);
	lua_getfield(L, -1, "__index");
	lua_getfield(L, -1, "close");
	lua_setfield(L, -2, "detach");
	ebpfdsl_lua_set_uv_getter(L, EBPFDSL_LINK_CLASS, "prog", 1); /* the Prog it runs */
	lua_pop(L, 2);
	ebpfdsl_lua_open_iter(L);
	lua_pushcfunction(L, l_link_open_pinned);
	lua_setfield(L, -2, "link_open_pinned");
}
