-- SPDX-License-Identifier: MIT
-- BTF: the kernel's type information. btf.vmlinux() is the running kernel's
-- (parsed once, on first use), btf.load(path) reads a raw BTF or ELF file.
local core = require "ebpfdsl.core"

local M = {}

local vmlinux

-- btf.vmlinux() -> ebpfdsl.BTF | nil, message, errno
function M.vmlinux()
  if not vmlinux then
    local b, msg, err = core.btf_vmlinux()
    if not b then return nil, msg, err end
    vmlinux = b
  end
  return vmlinux
end

-- btf.load(path[, base]) -> ebpfdsl.BTF | nil, message, errno. A raw BTF
-- file (/sys/kernel/btf/*) or an ELF object with a .BTF section; `base`
-- (a BTF, or true for the kernel's) for split BTF such as a module's.
function M.load(path, base)
  if type(path) ~= "string" then error("btf.load: path must be a string", 2) end
  if base == true then
    local err
    base, err = M.vmlinux()
    if not base then return nil, err end
  end
  return core.btf_load(path, base)
end

-- btf.writer() -> ebpfdsl.BTFWriter: BTF built type by type (w:int,
-- w:ptr, w:array, w:struct, w:union, w:typedef, w:type_tag, w:func_proto,
-- w:func, w:scalar, w:layout), then w:bytes(). Pure: no kernel.
M.writer = core.btf_writer

-- btf.from_bytes(bytes[, name]) -> ebpfdsl.BTF | nil, message, errno: BTF
-- bytes (a writer's) parsed by libbpf; b:load() puts it in the kernel,
-- b:fd() is then what a map or a program takes as its btf_fd.
function M.from_bytes(bytes, name)
  if type(bytes) ~= "string" then error("btf.from_bytes: bytes must be a string", 2) end
  return core.btf_from_bytes(bytes, name)
end

-- btf.module(name) -> ebpfdsl.BTF | nil, message, errno: a kernel module's
-- BTF (split on vmlinux), holding the fd of the kernel's BTF object for it.
function M.module(name)
  if type(name) ~= "string" then error("btf.module: name must be a module name", 2) end
  return core.btf_kernel(name)
end

-- btf.modules() -> the modules /sys/kernel/btf has BTF for
M.modules = core.btf_modules

return M
