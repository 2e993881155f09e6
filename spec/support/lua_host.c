/* SPDX-License-Identifier: MIT */
/* A C program that embeds Lua the way a host application does: it opens a
 * Lua state, runs a script in it, closes it, argv[1] times over, printing
 * its resident memory (KiB) after each close. With EBPFDSL_HOST_SIGUSR1=1
 * it first installs a SIGUSR1 handler that only counts (no SA_RESTART), as
 * a host with its own signal handling would. Usage: lua_host N script.lua */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident * 4;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0;
	const char *sig = getenv("EBPFDSL_HOST_SIGUSR1");

	if (n < 1) {
		fprintf(stderr, "usage: lua_host N script.lua\n");
		return 2;
	}
	if (sig && strcmp(sig, "1") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
	}
	for (int i = 0; i < n; i++) {
		lua_State *L = luaL_newstate();
		if (!L)
			return 1;
		luaL_openlibs(L);
		if (luaL_dofile(L, argv[2]) != LUA_OK) {
			fprintf(stderr, "state %d: %s\n", i + 1, lua_tostring(L, -1));
			lua_close(L);
			return 1;
		}
		lua_close(L);
		printf("%ld\n", rss_kib());
		fflush(stdout);
	}
	if (sig && strcmp(sig, "1") == 0)
		printf("usr1 %d\n", (int)usr1);
	return 0;
}
