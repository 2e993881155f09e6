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
    ["ebpfdsl._errors"] = "lua/ebpfdsl/_errors.lua",
    ["ebpfdsl._regs"] = "lua/ebpfdsl/_regs.lua",
    ["ebpfdsl.arch"] = "lua/ebpfdsl/arch.lua",
    ["ebpfdsl.attach"] = "lua/ebpfdsl/attach.lua",
    ["ebpfdsl.dsl"] = "lua/ebpfdsl/dsl.lua",
    ["ebpfdsl.kprobe"] = "lua/ebpfdsl/kprobe.lua",
    ["ebpfdsl.maps"] = "lua/ebpfdsl/maps.lua",
    ["ebpfdsl.programs"] = "lua/ebpfdsl/programs.lua",
    ["ebpfdsl.btf"] = "lua/ebpfdsl/btf.lua",
    ["ebpfdsl.object"] = "lua/ebpfdsl/object.lua",
    ["ebpfdsl.perfbuf"] = "lua/ebpfdsl/perfbuf.lua",
    ["ebpfdsl.ringbuf"] = "lua/ebpfdsl/ringbuf.lua",
    ["ebpfdsl.structs"] = "lua/ebpfdsl/structs.lua",
    ["ebpfdsl.tracepoint"] = "lua/ebpfdsl/tracepoint.lua",
    ["ebpfdsl.uprobe"] = "lua/ebpfdsl/uprobe.lua",
    ["ebpfdsl.core"] = {
      sources = {
        "csrc/core/arch.c",
        "csrc/core/asm.c",
        "csrc/core/decode.c",
        "csrc/core/encode.c",
        "csrc/core/helpers.c",
        "csrc/core/isa.c",
        "csrc/core/layout.c",
        "csrc/core/layout_codec.c",
        "csrc/core/layout_print.c",
        "csrc/core/print.c",
        "csrc/core/vlog.c",
        "csrc/kernel/bpffs.c",
        "csrc/kernel/btf.c",
        "csrc/kernel/btf_decl.c",
        "csrc/kernel/btf_path.c",
        "csrc/kernel/diag.c",
        "csrc/kernel/map.c",
        "csrc/kernel/map_batch.c",
        "csrc/kernel/map_btf.c",
        "csrc/kernel/map_iter.c",
        "csrc/kernel/object.c",
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
        "csrc/kernel/perfbuf.c",
        "csrc/kernel/prog.c",
        "csrc/kernel/prog_info.c",
        "csrc/kernel/prog_types.c",
        "csrc/kernel/reader.c",
        "csrc/kernel/ringbuf.c",
        "csrc/kernel/tracefs.c",
        "csrc/lua/lua_arch.c",
        "csrc/lua/lua_asm.c",
        "csrc/lua/lua_attach.c",
        "csrc/lua/lua_btf.c",
        "csrc/lua/lua_core.c",
        "csrc/lua/lua_disasm.c",
        "csrc/lua/lua_isa.c",
        "csrc/lua/lua_iter.c",
        "csrc/lua/lua_layout.c",
        "csrc/lua/lua_layout_codec.c",
        "csrc/lua/lua_map.c",
        "csrc/lua/lua_map_batch.c",
        "csrc/lua/lua_map_codec.c",
        "csrc/lua/lua_map_elem.c",
        "csrc/lua/lua_object.c",
        "csrc/lua/lua_link.c",
        "csrc/lua/lua_perfbuf.c",
        "csrc/lua/lua_prog.c",
        "csrc/lua/lua_prog_load.c",
        "csrc/lua/lua_reader.c",
        "csrc/lua/lua_ringbuf.c",
        "csrc/lua/lua_stage.c",
        "csrc/lua/lua_tracefs.c",
        "csrc/lua/lua_util.c",
      },
      libraries = { "bpf", "elf", "z" },
      incdirs = { "$(LIBBPF_INCDIR)", "$(LIBELF_INCDIR)" },
      libdirs = { "$(LIBBPF_LIBDIR)", "$(LIBELF_LIBDIR)" },
    },
  },
}
