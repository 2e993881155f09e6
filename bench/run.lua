-- SPDX-License-Identifier: MIT
-- make bench: runs every bench/*_bench.lua in order. Each prints its
-- figures beside a baseline measured in the same run, as ratios.
package.path = "lua/?.lua;lua/?/init.lua;bench/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local p = assert(io.popen("ls bench/*_bench.lua"))
local files = {}
for f in p:lines() do files[#files + 1] = f end
p:close()
print(("ebpfdsl bench, %s"):format(os.date("!%Y-%m-%d %H:%M UTC")))
for _, f in ipairs(files) do
  print("== " .. f)
  dofile(f)
end
