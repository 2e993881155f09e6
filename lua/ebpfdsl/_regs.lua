-- SPDX-License-Identifier: MIT
-- Internal: the names the DSL modules check and emit, in one place:
-- registers as instruction tables spell them, and access sizes by width.
local M = {}

-- "r0".."r10" and "fp" (r10's other name).
M.REGS = { fp = true }
for i = 0, 10 do M.REGS["r" .. i] = true end

-- The size field for a load or store of that many bytes.
M.SIZE_NAME = { [1] = "b", [2] = "h", [4] = "w", [8] = "dw" }

-- The size names themselves.
M.SIZES = {}
for _, name in pairs(M.SIZE_NAME) do M.SIZES[name] = true end

return M
