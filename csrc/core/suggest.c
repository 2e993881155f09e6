/* SPDX-License-Identifier: MIT */
/* "Did you mean": the names of a list nearest to a misspelt one, by edit
 * distance (case ignored), for messages about any kind of name. */
#include <ctype.h>
#include <string.h>
#include "core.h"

/* Edit distance, bounded: names are short, and a long one is no typo. */
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

int ebpfdsl_suggest(const char *name, const char *const *names, size_t n, const char **out, int max)
{
	int found = 0, limit;
	if (!name || max <= 0)
		return 0;
	limit = (int)strlen(name) / 3;
	if (limit < 2)
		limit = 2;
	for (int d = 0; d <= limit && found < max; d++) {
		for (size_t i = 0; i < n && found < max; i++) {
			int di = names[i] ? distance(name, names[i]) : 99;
			/* a name containing the query is as near as a one-letter typo */
			if (names[i] && strlen(name) >= 4 && strstr(names[i], name) && di > 1)
				di = 1;
			if (di == d)
				out[found++] = names[i];
		}
	}
	return found;
}
