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

return M
