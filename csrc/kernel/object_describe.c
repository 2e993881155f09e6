/* SPDX-License-Identifier: MIT */
/* An object in one line, for messages and printing (ebpfdsl.Object's
 * __tostring prints it; a C embedder gets the same words). Its own file:
 * it needs only the object's public accessors. */
#include <stdio.h>
#include "kernel.h"

const char *ebpfdsl_object__describe(const ebpfdsl_object *o, char *buf, size_t len)
{
	if (len)
		snprintf(buf, len, "%s (%s, %d programs, %d maps)", ebpfdsl_object__name(o),
			 ebpfdsl_object__loaded(o) ? "loaded" : "not loaded", (int)ebpfdsl_object__prog_count(o),
			 (int)ebpfdsl_object__map_count(o));
	return buf;
}
