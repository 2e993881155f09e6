/* SPDX-License-Identifier: MIT */
/* Names of program types and attach types: libbpf's names first, then,
 * for types newer than the installed libbpf, the running kernel's own enum
 * names read from its BTF (BPF_PROG_TYPE_NETFILTER -> "netfilter"). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"

#define MAX_KERNEL_TYPES 128
#define NAME_LEN 48

struct kernel_names {
	char prog[MAX_KERNEL_TYPES][NAME_LEN];
	char attach[MAX_KERNEL_TYPES][NAME_LEN];
};

static struct kernel_names kernel;
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;

/* enum bpf_prog_type's BPF_PROG_TYPE_XDP = 6 becomes kernel.prog[6] = "xdp" */
static void read_enum(const ebpfdsl_btf *b, const char *ename, const char *prefix, char (*out)[NAME_LEN])
{
	int id = ebpfdsl_btf__find(b, ename, BTF_KIND_ENUM);
	size_t plen = strlen(prefix);
	const char *name;
	int64_t v;
	int sgn;

	if (id < 0)
		return;
	for (uint32_t i = 0; ebpfdsl_btf__enum_value(b, (uint32_t)id, i, &name, &v, &sgn) == 0; i++) {
		if (v < 0 || v >= MAX_KERNEL_TYPES || strncmp(name, prefix, plen) != 0)
			continue; /* __MAX_BPF_PROG_TYPE and its kin lack the prefix */
		for (size_t k = 0; name[plen + k] && k + 1 < NAME_LEN; k++)
			out[v][k] = (char)tolower((unsigned char)name[plen + k]);
	}
}

static void read_kernel_names(void)
{
	const ebpfdsl_btf *b = ebpfdsl_btf__vmlinux();
	if (!b)
		return; /* no kernel BTF: libbpf's names are all there is */
	read_enum(b, "bpf_prog_type", "BPF_PROG_TYPE_", kernel.prog);
	read_enum(b, "bpf_attach_type", "BPF_", kernel.attach);
}

static const char *kernel_name(char (*names)[NAME_LEN], int v)
{
	if (v < 0 || v >= MAX_KERNEL_TYPES)
		return NULL;
	pthread_once(&kernel_once, read_kernel_names);
	return names[v][0] ? names[v] : NULL;
}

static int kernel_parse(char (*names)[NAME_LEN], const char *name)
{
	pthread_once(&kernel_once, read_kernel_names);
	for (int v = 0; v < MAX_KERNEL_TYPES; v++)
		if (names[v][0] && strcmp(names[v], name) == 0)
			return v;
	return -ENOENT;
}

/* libbpf's names ("socket_filter") are the kernel's enum names lowercased
 * without the prefix; ask it rather than keep a second list. */
int ebpfdsl_prog_type_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int t = 0; t < MAX_KERNEL_TYPES; t++) {
		const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)t);
		if (s && strcmp(s, name) == 0)
			return t;
	}
	return kernel_parse(kernel.prog, name);
}

const char *ebpfdsl_prog_type_name(int type)
{
	const char *s;
	if (type < 0)
		return NULL;
	s = libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
	return s ? s : kernel_name(kernel.prog, type);
}

int ebpfdsl_attach_type_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int t = 0; t < MAX_KERNEL_TYPES; t++) {
		const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);
		if (s && strcmp(s, name) == 0)
			return t;
	}
	return kernel_parse(kernel.attach, name);
}

const char *ebpfdsl_attach_type_name(int type)
{
	const char *s;
	if (type < 0)
		return NULL;
	s = libbpf_bpf_attach_type_str((enum bpf_attach_type)type);
	return s ? s : kernel_name(kernel.attach, type);
}

/* A short name: "ingress" -> cgroup_inet_ingress, "connect4" ->
 * cgroup_inet4_connect, "sendmsg4" -> cgroup_udp4_sendmsg, "sysctl" ->
 * cgroup_sysctl, "msg_verdict" -> sk_msg_verdict, "verdict" ->
 * sk_skb_verdict; the first of these spellings that names one wins. */
int ebpfdsl_attach_type_parse_short(const char *name)
{
	static const char *const forms[] = { "%s", "cgroup_%s", "cgroup_inet_%s", "sk_%s", "sk_skb_%s" };
	char buf[96];
	size_t n = name ? strlen(name) : 0;
	int t = -ENOENT;
	if (!name || n > 64)
		return ebpfdsl_attach_type_parse(name);
	for (size_t i = 0; t < 0 && i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(buf, sizeof(buf), forms[i], name);
		t = ebpfdsl_attach_type_parse(buf);
	}
	if (t < 0 && n > 1 && (name[n - 1] == '4' || name[n - 1] == '6')) {
		snprintf(buf, sizeof(buf), "cgroup_inet%c_%.*s", name[n - 1], (int)(n - 1), name);
		if ((t = ebpfdsl_attach_type_parse(buf)) < 0) {
			snprintf(buf, sizeof(buf), "cgroup_udp%c_%.*s", name[n - 1], (int)(n - 1), name);
			t = ebpfdsl_attach_type_parse(buf);
		}
	}
	return t < 0 ? -ENOENT : t;
}
