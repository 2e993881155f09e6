/* SPDX-License-Identifier: MIT */
/* core.tracefs_root([mount]) for lua/ebpfdsl/tracepoint.lua: the directory
 * tracepoint formats are read from. */
#include "lua_util.h"

/* tracefs_root([mount_if_absent=true]) -> path | nil, message, errno */
static int l_tracefs_root(lua_State *L)
{
	char path[256];
	int mount_it = lua_isnoneornil(L, 1) ? 1 : lua_toboolean(L, 1);
	int err = ebpfdsl_tracefs_root(path, sizeof(path), mount_it);
	if (err)
		return ebpfdsl_lua_fail(L, err, "tracefs is not mounted at /sys/kernel/tracing%s",
					mount_it ? " and mounting it failed" : "");
	lua_pushstring(L, path);
	return 1;
}

void ebpfdsl_lua_open_tracefs(lua_State *L)
{
	lua_pushcfunction(L, l_tracefs_root);
	lua_setfield(L, -2, "tracefs_root");
}
