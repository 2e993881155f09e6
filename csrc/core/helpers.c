/* SPDX-License-Identifier: MIT */
/* Helper ids and names, generated from the kernel's own list
 * (__BPF_FUNC_MAPPER in <linux/bpf.h>), never typed by hand. */
#include <ctype.h>
#include <string.h>
#include "core.h"

/* __BPF_FUNC_MAPPER(FN) gives "FN(name)," per helper, in 6.1 headers and,
 * through its compatibility wrapper, in newer ones; indexing by the
 * header's own enum keeps ids right whatever the order. */
#define HELPER_NAME_(name) [BPF_FUNC_##name] = #name
static const char *const helper_names[] = { __BPF_FUNC_MAPPER(HELPER_NAME_) };
#undef HELPER_NAME_

#define HELPER_COUNT ((int)(sizeof(helper_names) / sizeof(helper_names[0])))

int ebpfdsl_helper_count(void)
{
	return HELPER_COUNT;
}

const char *ebpfdsl_helper_name(int id)
{
	if (id <= BPF_FUNC_unspec || id >= HELPER_COUNT)
		return NULL;
	return helper_names[id];
}

static const char *strip_prefix(const char *name)
{
	return strncmp(name, "bpf_", 4) == 0 ? name + 4 : name;
}

int ebpfdsl_helper_id(const char *name)
{
	if (!name)
		return -1;
	name = strip_prefix(name);
	for (int id = BPF_FUNC_unspec + 1; id < HELPER_COUNT; id++)
		if (helper_names[id] && strcmp(helper_names[id], name) == 0)
			return id;
	return -1;
}

/* Edit distance, bounded to keep the table small: names are short. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];
	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			/* case does not count: MAP_LOOKUP_ELEM is near map_lookup_elem */
			int best = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* A name containing the query counts as close as a one-letter typo. */
static int closeness(const char *query, const char *name)
{
	int d = distance(query, name);
	if (strlen(query) >= 4 && strstr(name, query) && d > 1)
		d = 1;
	return d;
}

int ebpfdsl_helper_suggest(const char *name, const char **out, int max)
{
	int n = 0, limit;
	if (!name || max <= 0)
		return 0;
	name = strip_prefix(name);
	limit = (int)strlen(name) / 3;
	if (limit < 2)
		limit = 2;
	for (int d = 0; d <= limit && n < max; d++)
		for (int id = BPF_FUNC_unspec + 1; id < HELPER_COUNT && n < max; id++)
			if (helper_names[id] && closeness(name, helper_names[id]) == d)
				out[n++] = helper_names[id];
	return n;
}
