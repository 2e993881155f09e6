/* SPDX-License-Identifier: MIT */
/* Internal declarations of csrc/kernel: what its files share. Everything
 * here talks to the kernel through libbpf; nothing here knows Lua. */
#ifndef EBPFDSL_KERNEL_H
#define EBPFDSL_KERNEL_H

#include "../ebpfdsl.h"

#endif
