/* SPDX-License-Identifier: MIT */
/* Per-architecture struct pt_regs tables: where a kprobe or uprobe finds
 * each argument, the return value, sp, ip and fp, and the syscall rules. */
#include <errno.h>
#include <string.h>
#include "core.h"

/* R: a field the UAPI header shows at that offset (spec 42 compiles the
 * header and libbpf's bpf_tracing.h and compares); K: a field only the
 * kernel's own struct pt_regs has, cited to the kernel source beside it. */
#define R(n, o) { n, o, 0 }
#define K(n, o) { n, o, 1 }
#define NONE { NULL, -1, 0 }

static const struct ebpfdsl_arch arches[] = {
	/* arch/x86/include/uapi/asm/ptrace.h, struct pt_regs (64-bit):
	 * r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax
	 * rip cs eflags rsp ss. System V: rdi rsi rdx rcx r8 r9; the syscall
	 * instruction clobbers rcx, so the 4th syscall argument is in r10.
	 * Syscalls are wrapped (arch/x86/include/asm/syscall_wrapper.h). */
	{ "x86_64", "x86", "struct pt_regs", 8, 6, 6, 1, "__x64_sys_",
	  { R("rdi", 112), R("rsi", 104), R("rdx", 96), R("rcx", 88), R("r8", 72), R("r9", 64), NONE, NONE },
	  { R("rdi", 112), R("rsi", 104), R("rdx", 96), R("r10", 56), R("r8", 72), R("r9", 64), NONE, NONE },
	  R("rax", 80), R("rsp", 152), R("rip", 128), R("rbp", 32) },

	/* arch/arm64/include/uapi/asm/ptrace.h, struct user_pt_regs: regs[31],
	 * sp, pc, pstate. AAPCS64: x0..x7. The kernel's struct pt_regs
	 * (arch/arm64/include/asm/ptrace.h) begins with user_pt_regs (272
	 * bytes) and then holds orig_x0 at 272: the first syscall argument as
	 * it was before x0 took the return value (libbpf reads it there too).
	 * Wrapped: arch/arm64/include/asm/syscall_wrapper.h. */
	{ "arm64", "arm64", "struct user_pt_regs", 8, 8, 6, 1, "__arm64_sys_",
	  { R("regs[0]", 0), R("regs[1]", 8), R("regs[2]", 16), R("regs[3]", 24), R("regs[4]", 32),
	    R("regs[5]", 40), R("regs[6]", 48), R("regs[7]", 56) },
	  { K("orig_x0", 272), R("regs[1]", 8), R("regs[2]", 16), R("regs[3]", 24), R("regs[4]", 32),
	    R("regs[5]", 40), NONE, NONE },
	  R("regs[0]", 0), R("sp", 248), R("pc", 256), R("regs[29]", 232) },

	/* arch/s390/include/uapi/asm/ptrace.h, user_pt_regs: args[1], psw
	 * (mask, addr), gprs[16]. ELF ABI: r2..r6. The kernel's struct pt_regs
	 * (arch/s390/include/asm/ptrace.h) follows user_pt_regs with orig_gpr2
	 * at 8 + 16 + 16 * 8 = 152, the first syscall argument (gpr2 becomes
	 * the return value). Wrapped: arch/s390/include/asm/syscall_wrapper.h,
	 * which itself reads orig_gpr2 and gprs[3..7]. */
	{ "s390x", "s390", "user_pt_regs", 8, 5, 6, 1, "__s390x_sys_",
	  { R("gprs[2]", 40), R("gprs[3]", 48), R("gprs[4]", 56), R("gprs[5]", 64), R("gprs[6]", 72), NONE,
	    NONE, NONE },
	  { K("orig_gpr2", 152), R("gprs[3]", 48), R("gprs[4]", 56), R("gprs[5]", 64), R("gprs[6]", 72),
	    R("gprs[7]", 80), NONE, NONE },
	  R("gprs[2]", 40), R("gprs[15]", 144), R("psw.addr", 16), R("gprs[11]", 112) },

	/* arch/powerpc/include/uapi/asm/ptrace.h, struct pt_regs: gpr[32], nip,
	 * msr, orig_gpr3, ... ELFv2: r3..r10; r1 is the stack pointer; the ABI
	 * has no frame pointer register. Since Linux 6.1 ppc64 wraps syscalls
	 * (arch/powerpc/include/asm/syscall_wrapper.h: sys_<name> takes
	 * const struct pt_regs * and reads gpr[3..8]) when CONFIG_COMPAT is
	 * off, as on ppc64le; libbpf 1.1 predates that. */
	{ "ppc64le", "powerpc", "struct pt_regs", 8, 8, 6, 1, "sys_",
	  { R("gpr[3]", 24), R("gpr[4]", 32), R("gpr[5]", 40), R("gpr[6]", 48), R("gpr[7]", 56),
	    R("gpr[8]", 64), R("gpr[9]", 72), R("gpr[10]", 80) },
	  { R("gpr[3]", 24), R("gpr[4]", 32), R("gpr[5]", 40), R("gpr[6]", 48), R("gpr[7]", 56),
	    R("gpr[8]", 64), NONE, NONE },
	  R("gpr[3]", 24), R("gpr[1]", 8), R("nip", 256), NONE },

	/* arch/riscv/include/uapi/asm/ptrace.h, struct user_regs_struct: pc ra
	 * sp gp tp t0-t2 s0 s1 a0-a7 s2-s11 t3-t6. psABI: a0..a7. The kernel's
	 * struct pt_regs (arch/riscv/include/asm/ptrace.h) continues with
	 * status, badaddr, cause, orig_a0: orig_a0 at 35 * 8 = 280. Since
	 * Linux 6.6 syscalls are wrapped (arch/riscv/include/asm/
	 * syscall_wrapper.h reads orig_a0, a1..a5); libbpf 1.1 predates that. */
	{ "riscv64", "riscv", "struct user_regs_struct", 8, 8, 6, 1, "__riscv_sys_",
	  { R("a0", 80), R("a1", 88), R("a2", 96), R("a3", 104), R("a4", 112), R("a5", 120), R("a6", 128),
	    R("a7", 136) },
	  { K("orig_a0", 280), R("a1", 88), R("a2", 96), R("a3", 104), R("a4", 112), R("a5", 120), NONE,
	    NONE },
	  R("a0", 80), R("sp", 16), R("pc", 0), R("s0", 64) },

	/* arch/arm/include/uapi/asm/ptrace.h, struct pt_regs: long uregs[18],
	 * 4-byte slots. AAPCS: r0..r3 (a fifth argument is on the stack); EABI
	 * syscalls pass r0..r6, and sys_* are plain functions. The instruction
	 * pointer is ARM_pc = uregs[15] (instruction_pointer() in
	 * arch/arm/include/asm/ptrace.h); r12, which libbpf 1.1 reads for
	 * PT_REGS_IP, is the intra-procedure scratch register "ip". */
	{ "arm", "arm", "struct pt_regs", 4, 4, 7, 0, "sys_",
	  { R("uregs[0]", 0), R("uregs[1]", 4), R("uregs[2]", 8), R("uregs[3]", 12), NONE, NONE, NONE, NONE },
	  { R("uregs[0]", 0), R("uregs[1]", 4), R("uregs[2]", 8), R("uregs[3]", 12), R("uregs[4]", 16),
	    R("uregs[5]", 20), R("uregs[6]", 24), NONE },
	  R("uregs[0]", 0), R("uregs[13]", 52), R("uregs[15]", 60), R("uregs[11]", 44) },

	/* arch/mips/include/uapi/asm/ptrace.h, struct pt_regs: regs[32] first.
	 * n64: a0..a7 = $4..$11, v0 = $2, sp = $29, fp = $30. The kernel's
	 * struct pt_regs (arch/mips/include/asm/ptrace.h, 64-bit, no
	 * SMARTMIPS) orders the specials cp0_status, hi, lo, cp0_badvaddr,
	 * cp0_cause, cp0_epc, so cp0_epc is at (32 + 5) * 8 = 296, not where
	 * the UAPI struct puts it (272). No syscall wrapper. */
	{ "mips64", "mips", "struct pt_regs", 8, 8, 6, 0, "sys_",
	  { R("regs[4]", 32), R("regs[5]", 40), R("regs[6]", 48), R("regs[7]", 56), R("regs[8]", 64),
	    R("regs[9]", 72), R("regs[10]", 80), R("regs[11]", 88) },
	  { R("regs[4]", 32), R("regs[5]", 40), R("regs[6]", 48), R("regs[7]", 56), R("regs[8]", 64),
	    R("regs[9]", 72), NONE, NONE },
	  R("regs[2]", 16), R("regs[29]", 232), K("cp0_epc", 296), R("regs[30]", 240) },

	/* No loongarch headers on this machine, nor in libbpf 1.1: from
	 * arch/loongarch/include/uapi/asm/ptrace.h, struct user_pt_regs:
	 * regs[32], orig_a0 (256), csr_era (264), csr_badv, reserved[10]; the
	 * kernel's struct pt_regs (arch/loongarch/include/asm/ptrace.h) has
	 * the same prefix. ELF psABI: a0..a7 = $r4..$r11, sp = $r3, fp = $r22,
	 * return value in a0; csr_era is the exception return address, the
	 * probed pc. No syscall wrapper. */
	{ "loongarch64", "loongarch", "struct user_pt_regs", 8, 8, 6, 0, "sys_",
	  { R("regs[4]", 32), R("regs[5]", 40), R("regs[6]", 48), R("regs[7]", 56), R("regs[8]", 64),
	    R("regs[9]", 72), R("regs[10]", 80), R("regs[11]", 88) },
	  { R("regs[4]", 32), R("regs[5]", 40), R("regs[6]", 48), R("regs[7]", 56), R("regs[8]", 64),
	    R("regs[9]", 72), NONE, NONE },
	  R("regs[4]", 32), R("regs[3]", 24), R("csr_era", 264), R("regs[22]", 176) },
};

#undef R
#undef K
#undef NONE

#define NARCHES (sizeof(arches) / sizeof(arches[0]))

/* Other names people and tools use: uname -m, Debian, Go, the kernel. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "amd64", "x86_64" },   { "x64", "x86_64" },        { "aarch64", "arm64" },
	{ "s390", "s390x" },     { "ppc64el", "ppc64le" },   { "powerpc64le", "ppc64le" },
	{ "armhf", "arm" },      { "armel", "arm" },         { "armv7l", "arm" },
	{ "mips64el", "mips64" }, { "loong64", "loongarch64" },
};

const struct ebpfdsl_arch *ebpfdsl_arch_at(size_t i)
{
	return i < NARCHES ? &arches[i] : NULL;
}

const struct ebpfdsl_arch *ebpfdsl_arch_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].alias, name) == 0)
			name = aliases[i].name;
	for (size_t i = 0; i < NARCHES; i++)
		if (strcmp(arches[i].name, name) == 0 || strcmp(arches[i].target, name) == 0)
			return &arches[i];
	return NULL;
}

const struct ebpfdsl_arch *ebpfdsl_arch_current(void)
{
#if defined(__x86_64__)
	return ebpfdsl_arch_find("x86_64");
#elif defined(__aarch64__)
	return ebpfdsl_arch_find("arm64");
#elif defined(__s390x__)
	return ebpfdsl_arch_find("s390x");
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return ebpfdsl_arch_find("ppc64le");
#elif defined(__riscv) && __riscv_xlen == 64
	return ebpfdsl_arch_find("riscv64");
#elif defined(__arm__)
	return ebpfdsl_arch_find("arm");
#elif defined(__mips64)
	return ebpfdsl_arch_find("mips64");
#elif defined(__loongarch64)
	return ebpfdsl_arch_find("loongarch64");
#else
	return NULL;
#endif
}

int ebpfdsl_arch_arg_offset(const struct ebpfdsl_arch *a, int n)
{
	if (!a)
		return -EINVAL;
	if (n < 1 || n > a->nargs)
		return -ERANGE;
	return a->args[n - 1].offset;
}

int ebpfdsl_arch_syscall_arg_offset(const struct ebpfdsl_arch *a, int n)
{
	if (!a)
		return -EINVAL;
	if (n < 1 || n > a->nsyscall_args)
		return -ERANGE;
	return a->syscall_args[n - 1].offset;
}
