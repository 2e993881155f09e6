/* SPDX-License-Identifier: MIT */
/* What a binding checks before it decodes or encodes: how many records
 * a buffer holds, and whether a key of a table names a value field. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "layout.h"

int64_t ebpfdsl_layout__records(const ebpfdsl_layout *l, size_t len, int64_t off, int64_t stride,
				const int64_t *want, char *err, size_t errlen)
{
	size_t size = ebpfdsl_layout__size(l);
	int64_t fit = 0;
	if (off < 0)
		return snprintf(err, errlen, "offset must not be negative, got %lld", (long long)off), -1;
	if (stride <= 0)
		return snprintf(err, errlen, "stride must be at least 1, got %lld", (long long)stride), -1;
	if ((uint64_t)off <= len && len - (size_t)off >= size)
		fit = (int64_t)((len - (size_t)off - size) / (uint64_t)stride) + 1;
	if (!want)
		return fit;
	if (*want < 0)
		return snprintf(err, errlen, "count must not be negative, got %lld", (long long)*want), -1;
	if (*want > fit)
		return snprintf(err, errlen,
				"%lld records of struct %s (%zu bytes, stride %lld, offset %lld) need more than the "
				"%zu bytes given",
				(long long)*want, l->name, size, (long long)stride, (long long)off, len),
		       -1;
	return *want;
}

int ebpfdsl_layout__check_key(const ebpfdsl_layout *l, const char *prefix, const char *key, char *err,
			      size_t errlen)
{
	size_t n = 0;
	/* a direct field only: a path ("a.b", "a[0]") is no key */
	for (size_t i = 0; i < l->nfields && !strpbrk(key, ".["); i++) {
		if (strcmp(l->fields[i].name, key) != 0)
			continue;
		if (l->fields[i].type != EBPFDSL_TYPE_PAD)
			return 0;
		snprintf(err, errlen, "'%s%s' is padding and takes no value", prefix, key);
		return -EINVAL;
	}
	n = (size_t)snprintf(err, errlen, "unknown field '%s%s' (struct %s has ", prefix, key, l->name);
	for (size_t i = 0; i < l->nfields && n < errlen; i++)
		n += (size_t)snprintf(err + n, errlen - n, "%s%s", i ? ", " : "", l->fields[i].name);
	if (n < errlen)
		snprintf(err + n, errlen - n, ")");
	return -ENOENT;
}
