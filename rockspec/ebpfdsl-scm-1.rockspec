-- SPDX-License-Identifier: MIT
-- luarocks make rockspec/ebpfdsl-scm-1.rockspec builds and installs ebpfdsl.
-- spec/00-skeleton_spec.lua checks that the source lists below equal the
-- files on disk, so keep them in step when adding a file.
rockspec_format = "3.0"
package = "ebpfdsl"
version = "scm-1"
source = {
  url = "git+https://github.com/ebpfdsl/ebpfdsl.git",
}
description = {
  summary = "Write, load, attach and read eBPF programs from Lua, with no compiler",
  detailed = [[
    eBPF programs, event layouts and ring-buffer readers composed as Lua
    tables; a C core assembles them and runs them through libbpf.
  ]],
  homepage = "https://github.com/ebpfdsl/ebpfdsl",
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  LIBBPF = { header = "bpf/libbpf.h", library = "bpf" },
  LIBELF = { header = "libelf.h", library = "elf" },
}
build = {
  type = "builtin",
  modules = {
    ["ebpfdsl"] = "lua/ebpfdsl/init.lua",
    ["ebpfdsl.attach"] = "lua/ebpfdsl/attach.lua",
    ["ebpfdsl.dsl"] = "lua/ebpfdsl/dsl.lua",
    ["ebpfdsl.programs"] = "lua/ebpfdsl/programs.lua",
    ["ebpfdsl.core"] = {
      sources = {
        "csrc/core/asm.c",
        "csrc/core/decode.c",
        "csrc/core/encode.c",
        "csrc/core/helpers.c",
        "csrc/core/isa.c",
        "csrc/core/print.c",
        "csrc/kernel/attach_cgroup.c",
        "csrc/kernel/attach_iter.c",
        "csrc/kernel/attach_kprobe.c",
        "csrc/kernel/attach_net.c",
        "csrc/kernel/attach_perf.c",
        "csrc/kernel/attach_perf_event.c",
        "csrc/kernel/attach_tracepoint.c",
        "csrc/kernel/attach_uprobe.c",
        "csrc/kernel/elf_sym.c",
        "csrc/kernel/link.c",
        "csrc/kernel/prog.c",
        "csrc/lua/lua_asm.c",
        "csrc/lua/lua_core.c",
        "csrc/lua/lua_link.c",
        "csrc/lua/lua_prog.c",
        "csrc/lua/lua_util.c",
      },
      libraries = { "bpf", "elf", "z" },
      incdirs = { "$(LIBBPF_INCDIR)", "$(LIBELF_INCDIR)" },
      libdirs = { "$(LIBBPF_LIBDIR)", "$(LIBELF_LIBDIR)" },
    },
  },
}
