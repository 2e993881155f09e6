/* SPDX-License-Identifier: MIT */
/* Helper ids and names, generated from the kernel's own list
 * (__BPF_FUNC_MAPPER in <linux/bpf.h>), never typed by hand; and the
 * running kernel's list, for the helpers newer than the header. */
#include <string.h>
#include "core.h"

/* __BPF_FUNC_MAPPER(FN) gives "FN(name)," per helper, in 6.1 headers and,
 * through its compatibility wrapper, in newer ones; indexing by the
 * header's own enum keeps ids right whatever the order. */
#define HELPER_NAME_(name) [BPF_FUNC_##name] = #name
static const char *const helper_names[] = { __BPF_FUNC_MAPPER(HELPER_NAME_) };
#undef HELPER_NAME_

#define HELPER_COUNT ((int)(sizeof(helper_names) / sizeof(helper_names[0])))

/* The running kernel's list (enum bpf_func_id in its BTF), installed by
 * csrc/kernel when a name or an id is not in the header's: newer kernels
 * have helpers the build host never heard of. Asked for once, lazily:
 * reading the kernel's BTF costs more than most programs take to build. */
static const char *const *kernel_names;
static int kernel_count;
static int (*kernel_loader)(void);
static int kernel_asked;

void ebpfdsl_helpers_set_kernel(const char *const *names, int count)
{
	kernel_names = names;
	kernel_count = names ? count : 0;
	kernel_asked = names != NULL; /* NULL forgets: the loader is asked again */
}

void ebpfdsl_helpers_set_loader(int (*load)(void))
{
	kernel_loader = load;
}

/* The kernel's list, asked for the first time it is needed; 0 when the
 * kernel gives none (no loader, no BTF). */
static int kernel_list(void)
{
	if (!kernel_asked && kernel_loader) {
		kernel_asked = 1;
		kernel_loader();
	}
	return kernel_count;
}

int ebpfdsl_helper_count(void)
{
	return HELPER_COUNT;
}

int ebpfdsl_helper_count_kernel(void)
{
	int n = kernel_list();
	return n > HELPER_COUNT ? n : HELPER_COUNT;
}

const char *ebpfdsl_helper_name(int id)
{
	if (id <= BPF_FUNC_unspec)
		return NULL;
	if (id < HELPER_COUNT && helper_names[id])
		return helper_names[id];
	if (id < kernel_list())
		return kernel_names[id];
	return NULL;
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
	for (int id = BPF_FUNC_unspec + 1; id < kernel_list(); id++)
		if (kernel_names[id] && strcmp(kernel_names[id], name) == 0)
			return id;
	return -1;
}

int ebpfdsl_helper_suggest(const char *name, const char **out, int max)
{
	int n;
	if (!name || max <= 0)
		return 0;
	name = strip_prefix(name);
	/* the running kernel's list where there is one: the helpers there are */
	if (kernel_list() > 1)
		n = ebpfdsl_suggest(name, kernel_names + 1, (size_t)kernel_count - 1, out, max);
	else
		n = ebpfdsl_suggest(name, helper_names + 1, (size_t)HELPER_COUNT - 1, out, max);
	return n;
}

/* The one text for a name no helper has, with the nearest ones. */
const char *ebpfdsl_helper_unknown(const char *name, char *buf, size_t len)
{
	const char *near[4];
	size_t pos = 0;
	int n = ebpfdsl_helper_suggest(name, near, 4);
	if (len)
		buf[0] = '\0';
	ebpfdsl__appendf(buf, len, &pos, "unknown helper '%s'", name ? name : "");
	for (int i = 0; i < n; i++)
		ebpfdsl__appendf(buf, len, &pos, "%s'%s'", i ? ", " : "; did you mean ", near[i]);
	return buf;
}
