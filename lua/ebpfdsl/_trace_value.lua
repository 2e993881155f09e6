-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): the symbolic values a probe body computes with.
-- Operators on them emit IR into the program being built; comparisons are
-- methods yielding conditions, lowered to jumps where a filter or a branch
-- needs them.
--
-- A value is one of
--   int    a vreg (or a Lua integer: a constant) holding `size` bytes,
--          signed or not; narrower than 8 bytes, the upper bits are either
--          the zero-extension a load gives (clean) or undefined (a
--          register argument); they are fixed only when 64 bits matter
--   ptr    an int that points to a C type (from BTF or a tracepoint
--          format), in user or kernel memory, or BTF-typed memory the
--          verifier lets the program load from directly
--   str    a string read only where it is used (a record, a map key): a
--          function writing at most n bytes there
--   place  memory holding a C value (a struct member, a tracepoint field):
--          indexing walks members and elements, use loads it
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, tointeger, setmetatable, getmetatable = type, math.tointeger, setmetatable, getmetatable
local fail, isv = ir.fail, require("ebpfdsl._trace_regalloc").isv

-- The fields of a value live under this key, so that every name can be a
-- struct member: val.tgid is never one of ours.
local K = {}
M.K = K

local V = { __name = "ebpfdsl.trace.Value" }
M.V = V
local C = { __name = "ebpfdsl.trace.Condition" }
M.C = C

-- The probe whose body runs now; values of another (or of no) body raise.
M.current = nil

local function new(fn, kind, fields)
  fields.fn, fields.kind = fn, kind
  return setmetatable({ [K] = fields }, V)
end
M.new = new

function M.is(x) return getmetatable(x) == V end
function M.is_cond(x) return getmetatable(x) == C end
local function f(x) return x[K] end
M.fields = f

-- int(fn, vreg_or_const[, size, signed, clean, fmt])
function M.int(fn, v, size, signed, clean, fmt)
  return new(fn, "int", { v = v, size = size or 8, signed = signed or false, clean = clean ~= false, fmt = fmt })
end

function M.const(k, signed) return M.int(nil, k, 8, signed == nil and k < 0 or signed) end

local function shown(x)
  if M.is(x) then return "a " .. f(x).kind .. " value" end
  if type(x) == "string" then return ("'%s'"):format(x) end
  return type(x) == "number" and tostring(x) or type(x)
end
M.shown = shown

local function check_fn(fn)
  if fn and M.current and fn ~= M.current then
    fail("trace: a value of probe '" .. tostring(fn.name) .. "' is used in probe '" .. tostring(M.current.name) ..
      "'; each body computes its own values")
  end
  if fn and not M.current then
    fail("trace: a probe's value is used outside its body (values exist only while the body runs)")
  end
end

-- Any operand as a value: numbers and booleans are constants, map objects
-- read their key-less value, places are loaded.
function M.val(x, what)
  if M.is(x) then
    local t = f(x)
    check_fn(t.fn)
    if t.kind == "place" then return M.load(x) end
    return x
  end
  if type(x) == "number" then
    local k = tointeger(x)
    if not k then fail(("trace: %s must be an integer, got %s (BPF has no floating point)"):format(what or "a value",
      tostring(x))) end
    return M.const(k)
  end
  if type(x) == "boolean" then return M.const(x and 1 or 0) end
  if type(x) == "string" then return M.strconst(x) end
  local mt = getmetatable(x)
  if mt and mt.__trace_value then return mt.__trace_value(x) end
  fail(("trace: %s must be a trace value or an integer, got %s"):format(what or "an operand", shown(x)))
end

local function is_const(t) return t.kind == "int" and type(t.v) == "number" end

-- The current program: the body's, or the one a value belongs to.
local function fn_of(...)
  for i = 1, select("#", ...) do
    local x = select(i, ...)
    if x and x.fn then return x.fn end
  end
  return M.current
end

-- The 64-bit register (or constant) of an int: sign- or zero-extended as
-- its type says. Memoized on the value.
function M.wide(x)
  local t = f(M.val(x))
  if t.kind == "str" or t.kind == "place" then fail("trace: a string is not a number") end
  if type(t.v) == "number" then return t.v end
  if t.size >= 8 or (t.clean and not t.signed) then return t.v end
  if not t.wide then
    local fn = t.fn
    if t.signed then t.wide = fn:un("sext", t.v, t.size * 8)
    elseif t.size == 4 then t.wide = fn:un("zext", t.v)
    else t.wide = fn:alu("and", t.v, (1 << (t.size * 8)) - 1) end
  end
  return t.wide
end

-- The register of an int as it is, for stores of at most its size.
function M.raw(x)
  local t = f(M.val(x))
  return t.v
end

-- Arithmetic --------------------------------------------------------------

local function ult(a, b) return math.ult(a, b) end
local function udiv(a, b)
  if a >= 0 and b > 0 then return a // b end
  if b < 0 then return ult(a, b) and 0 or 1 end
  local q = ((a >> 1) // b) << 1
  local r = a - q * b
  if not ult(r, b) then q = q + 1 end
  return q
end
local function umod(a, b) return a - udiv(a, b) * b end

local FOLD = {
  add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end, div = udiv, mod = umod,
  ["and"] = function(a, b) return a & b end, ["or"] = function(a, b) return a | b end,
  xor = function(a, b) return a ~ b end,
  lsh = function(a, b) return a << b end, rsh = function(a, b) return a >> b end,
  arsh = function(a, b) return b >= 64 and (a < 0 and -1 or 0) or (a >> b) | (a < 0 and ~(-1 >> b) or 0) end,
}
local COMMUTES = { add = true, mul = true, ["and"] = true, ["or"] = true, xor = true }

local function log2_exact(k)
  if k <= 0 or k & (k - 1) ~= 0 then return nil end
  local n = 0
  while k > 1 do k = k >> 1; n = n + 1 end
  return n
end

local function binop(op, x, y)
  local a, b = M.val(x, "an operand"), M.val(y, "an operand")
  local ta, tb = f(a), f(b)
  local fn = fn_of(ta, tb)
  local signed
  if is_const(ta) then signed = tb.signed elseif is_const(tb) then signed = ta.signed
  else signed = ta.signed and tb.signed end
  if op == "rsh" and signed then op = "arsh" end
  -- a mask that keeps only bits a narrow value has: its upper bits, and so
  -- its sign or zero extension, do not matter (x & 0x7f of an int); the
  -- same after a shift by k of such a value ((x >> 8) & 0xff of an int)
  if op == "and" and not is_const(ta) and is_const(tb) and tb.v >= 0 and ta.kind == "int" then
    local src, k = a, 0
    if ta.shifted then src, k = ta.shifted.x, ta.shifted.k end
    local bits = f(src).size * 8 - k
    if bits < 63 and tb.v < (1 << bits) and f(src).size < 8 then
      local r = f(src).v
      if k > 0 then r = fn:alu("rsh", r, k) end
      -- (the 0xff, 0xffff and 0xffffffff masks below make narrower values)
      if not (tb.v == 0xff or tb.v == 0xffff or tb.v == 0xffffffff) then
        return M.int(fn, fn:alu("and", r, tb.v), 8, signed)
      end
      a, ta = M.int(fn, r, 8, false), nil
    end
  end
  local av, bv = M.wide(a), M.wide(b)
  if type(av) == "number" and type(bv) == "number" then
    if (op == "div" or op == "mod") and bv == 0 then fail("trace: division by zero") end
    return M.int(nil, FOLD[op](av, bv), 8, signed)
  end
  if type(av) == "number" and COMMUTES[op] then av, bv = bv, av end
  if type(bv) == "number" then
    if (op == "add" or op == "sub" or op == "or" or op == "xor" or op == "lsh" or op == "rsh" or op == "arsh")
      and bv == 0 then
      return M.int(fn, av, 8, signed)
    end
    if op == "mul" and bv == 1 then return M.int(fn, av, 8, signed) end
    if (op == "mul" or op == "and") and bv == 0 then return M.int(nil, 0, 8, signed) end
    -- a mask of the low bytes: a narrower unsigned value (0xffffffff is a
    -- 32-bit move, which zero-extends)
    if op == "and" and (bv == 0xff or bv == 0xffff or bv == 0xffffffff) then
      local size = bv == 0xff and 1 or bv == 0xffff and 2 or 4
      if type(av) == "number" then av = fn:mov(av) end
      if size == 4 then return M.int(fn, fn:un("zext", av), 4, false, true) end
      return M.int(fn, fn:alu("and", av, bv), size, false, true)
    end
    local k = log2_exact(bv)
    if k and op == "mul" then op, bv = "lsh", k
    elseif k and op == "div" then op, bv = "rsh", k
    elseif k and op == "mod" and ir.fits_imm(bv - 1) then op, bv = "and", bv - 1 end
    if (op == "div" or op == "mod") and bv == 0 then fail("trace: division by zero") end
  end
  if type(av) == "number" then av = fn:mov(av) end
  local r = M.int(fn, fn:alu(op, av, bv), 8, signed)
  -- what cannot be negative as a signed 64-bit value (a histogram skips
  -- that test): an unsigned quotient or remainder by a constant above 1, a
  -- logical shift right, a mask
  if type(bv) == "number" and ((op == "div" and bv > 1) or (op == "mod" and bv > 0) or (op == "rsh" and bv > 0)
    or (op == "and" and bv >= 0)) then
    f(r).nonneg = true
  end
  -- a narrow value shifted right by a constant: a mask may undo the
  -- extension (above)
  if (op == "rsh" or op == "arsh") and type(bv) == "number" and ta and ta.kind == "int" and ta.size < 8 and
    type(ta.v) ~= "number" then
    f(r).shifted = { x = a, k = bv }
  end
  return r
end
M.binop = binop

V.__add = function(a, b) return binop("add", a, b) end
V.__sub = function(a, b) return binop("sub", a, b) end
V.__mul = function(a, b) return binop("mul", a, b) end
V.__idiv = function(a, b) return binop("div", a, b) end
V.__mod = function(a, b) return binop("mod", a, b) end
V.__band = function(a, b)
  if M.is_cond(a) or M.is_cond(b) then return M.both(a, b) end
  return binop("and", a, b)
end
V.__bor = function(a, b)
  if M.is_cond(a) or M.is_cond(b) then return M.either(a, b) end
  return binop("or", a, b)
end
V.__bxor = function(a, b) return binop("xor", a, b) end
V.__shl = function(a, b) return binop("lsh", a, b) end
V.__shr = function(a, b) return binop("rsh", a, b) end
V.__unm = function(a)
  local x = M.val(a)
  local w = M.wide(x)
  if type(w) == "number" then return M.int(nil, -w, 8, true) end
  return M.int(f(x).fn, f(x).fn:un("neg", w), 8, true)
end
V.__bnot = function(a) return binop("xor", a, -1) end
V.__div = function() fail("trace: '/' is float division; use '//' (integer division, unsigned as in bpftrace)") end
V.__pow = function() fail("trace: BPF has no '^'; use '<<' for powers of two") end
V.__concat = function()
  fail("trace: '..' joins Lua strings at build time; in a probe, pass values to T.printf or T.emit")
end
local function no_compare()
  fail("trace: ==, <, <= give Lua booleans at build time; compare values with a:eq(b), a:ne(b), a:lt(b), " ..
    "a:le(b), a:gt(b), a:ge(b)")
end
V.__eq, V.__lt, V.__le = no_compare, no_compare, no_compare
V.__len = function() fail("trace: '#' has no meaning on a trace value") end
V.__call = function() fail("trace: a trace value is not a function") end

function V.__tostring(x)
  local t = f(x)
  local what = t.kind == "int" and ((t.signed and "i" or "u") .. t.size * 8) or t.kind
  local where = type(t.v) == "number" and ("= " .. t.v) or isv(t.v) and ("in v" .. t.v.id) or ""
  return ("trace %s value %s"):format(what, where)
end

-- Conditions ----------------------------------------------------------------

local function cond(t) return setmetatable(t, C) end
M.cond = cond

local function compare(op, x, y)
  if type(y) == "string" or (M.is(y) and f(y).kind == "str") or (M.is(x) and f(x).kind == "str") then
    if op ~= "eq" and op ~= "ne" then fail("trace: strings compare with :eq and :ne only") end
    local c = cond { kind = "streq", a = x, b = y }
    -- a constant longer than the string can be never equals it
    local s, k = x, y
    if type(s) == "string" then s, k = k, s end
    if M.is(k) and f(k).const then k = f(k).const end
    if type(k) == "string" and M.is(s) and f(s).kind == "str" and f(s).n < #k + 1 then
      c = cond { kind = "const", value = false }
    end
    if op == "ne" then return cond { kind = "not", c = c } end
    return c
  end
  local a, b = M.val(x, "a compared value"), M.val(y, "a compared value")
  return cond { kind = "cmp", op = op, a = a, b = b }
end

local METHODS = {}
for _, op in ipairs { "eq", "ne", "lt", "le", "gt", "ge" } do
  METHODS[op] = function(self, other) return compare(op, self, other) end
end
M.METHODS = METHODS

function M.both(a, b) return cond { kind = "and", a = M.tocond(a), b = M.tocond(b) } end
function M.either(a, b) return cond { kind = "or", a = M.tocond(a), b = M.tocond(b) } end
function M.negate(c) return cond { kind = "not", c = M.tocond(c) } end

-- Anything a filter accepts: a condition, a Lua boolean, or a value (true
-- when not zero).
function M.tocond(c)
  if M.is_cond(c) then return c end
  if type(c) == "boolean" then return cond { kind = "const", value = c } end
  if M.is(c) or type(c) == "number" then return compare("ne", c, 0) end
  fail("trace: a condition must come from a:eq(b) and the like, or be a value or a boolean, got " .. shown(c))
end

C.__band = function(a, b) return M.both(a, b) end
C.__bor = function(a, b) return M.either(a, b) end
C.__bnot = function(a) return M.negate(a) end
C.__index = { eq = function() fail("trace: a condition is not a value; combine conditions with & | ~") end }
C.__eq = no_compare
C.__tostring = function(c) return "trace condition (" .. c.kind .. ")" end

local NEG = { eq = "ne", ne = "eq", lt = "ge", ge = "lt", gt = "le", le = "gt" }
local SWAP = { eq = "eq", ne = "ne", lt = "gt", gt = "lt", le = "ge", ge = "le" }
local JMP_U = { eq = "jeq", ne = "jne", lt = "jlt", le = "jle", gt = "jgt", ge = "jge" }
local JMP_S = { eq = "jeq", ne = "jne", lt = "jslt", le = "jsle", gt = "jsgt", ge = "jsge" }
local TEST = {
  eq = function(a, b) return a == b end, ne = function(a, b) return a ~= b end,
  lt = function(a, b, s) if s then return a < b end return ult(a, b) end,
  le = function(a, b, s) if s then return a <= b end return a == b or ult(a, b) end,
  gt = function(a, b, s) if s then return a > b end return ult(b, a) end,
  ge = function(a, b, s) if s then return a >= b end return a == b or ult(b, a) end,
}

-- Fits a 32-bit compare: 4 bytes wide, or a constant of that range.
local function narrow32(t)
  if is_const(t) then return t.v >= -0x80000000 and t.v <= 0xffffffff end
  return t.size == 4
end

-- Emits a jump to `to` taken when the comparison `op` holds.
local function emit_cmp(op, a, b, to, exit)
  local ta, tb = f(a), f(b)
  local signed
  if is_const(ta) then signed = tb.signed elseif is_const(tb) then signed = ta.signed
  else signed = ta.signed and tb.signed end
  local fn = fn_of(ta, tb)
  if is_const(ta) and is_const(tb) then
    if TEST[op](ta.v, tb.v, signed) then fn:ja(to) end
    return
  end
  if is_const(ta) then a, b, ta, tb, op = b, a, tb, ta, SWAP[op] end
  local w32 = narrow32(ta) and narrow32(tb) and (ta.size < 8 or tb.size < 8)
  local av, bv
  if w32 then
    av = ta.v
    bv = is_const(tb) and tb.v or tb.v
    if is_const(tb) and bv > 0x7fffffff then bv = bv - 0x100000000 end
  else
    av, bv = M.wide(a), M.wide(b)
  end
  fn:jmp((signed and JMP_S or JMP_U)[op], av, bv, to, w32, exit)
end

-- String equality: the string is written to the stack, then compared with
-- the constant (up to and with its NUL) in words of 8, 4, 2 and 1 bytes.
local function emit_streq(c, to_false, fn)
  local s, k = c.a, c.b
  if type(s) == "string" then s, k = k, s end
  if M.is(k) and f(k).kind == "str" and f(k).const then k = f(k).const end
  if type(k) ~= "string" then fail("trace: strings compare with a constant Lua string") end
  local sv = M.val(s)
  local st = f(sv)
  if st.kind ~= "str" then fail("trace: only a string compares with a string, got " .. shown(s)) end
  local n = #k + 1
  local buf = fn:stack(st.n, "string compare")
  M.write_str(sv, { stack = buf }, 0, st.n)
  local bytes = k .. "\0"
  local at = 0
  while at < n do
    local w = 8
    while w > n - at do w = w // 2 end
    local size = ({ [1] = "b", [2] = "h", [4] = "w", [8] = "dw" })[w]
    local word = string.unpack(({ [1] = "<I1", [2] = "<I2", [4] = "<I4", [8] = "<i8" })[w], bytes, at + 1)
    local v = fn:ld(size, { stack = buf }, at)
    fn:jmp("jne", v, word, to_false, false)
    at = at + w
  end
end

-- jump_false(fn, c, L): falls through when c holds, jumps to L when not.
-- jump_true(fn, c, L): the reverse. exit marks jumps to the program's end.
local jump_true
local function jump_false(fn, c, L, exit)
  c = M.tocond(c)
  local k = c.kind
  if k == "const" then
    if not c.value then fn:ja(L) end
  elseif k == "cmp" then
    emit_cmp(NEG[c.op], c.a, c.b, L, exit)
  elseif k == "streq" then
    emit_streq(c, L, fn)
  elseif k == "not" then
    jump_true(fn, c.c, L, exit)
  elseif k == "and" then
    jump_false(fn, c.a, L, exit)
    jump_false(fn, c.b, L, exit)
  elseif k == "or" then
    local yes = fn:newlabel("or")
    jump_true(fn, c.a, yes)
    jump_false(fn, c.b, L, exit)
    fn:label(yes)
  end
end
jump_true = function(fn, c, L, exit)
  c = M.tocond(c)
  local k = c.kind
  if k == "const" then
    if c.value then fn:ja(L) end
  elseif k == "cmp" then
    emit_cmp(c.op, c.a, c.b, L, exit)
  elseif k == "streq" then
    local no = fn:newlabel("streq")
    emit_streq(c, no, fn)
    fn:ja(L)
    fn:label(no)
  elseif k == "not" then
    jump_false(fn, c.c, L, exit)
  elseif k == "or" then
    jump_true(fn, c.a, L, exit)
    jump_true(fn, c.b, L, exit)
  elseif k == "and" then
    local no = fn:newlabel("and")
    jump_false(fn, c.a, no)
    jump_true(fn, c.b, L, exit)
    fn:label(no)
  end
end
M.jump_false, M.jump_true = jump_false, jump_true

-- Strings -------------------------------------------------------------------

-- str(fn, n, writer[, extra]) -> a string value of at most n bytes (NUL
-- included) that writer(fn, base, off, n) writes where it is used.
function M.str(fn, n, writer, extra)
  local t = { n = n, write = writer }
  for k, v in pairs(extra or {}) do t[k] = v end
  return new(fn, "str", t)
end

-- A constant Lua string, written with immediate stores.
function M.strconst(s)
  return new(nil, "str", { n = #s + 1, const = s, write = function(fn, base, off, n)
    local bytes = s:sub(1, n - 1) .. string.rep("\0", n - math.min(#s, n - 1))
    local at = 0
    while at < n do
      local w = (n - at >= 4) and 4 or (n - at >= 2 and 2 or 1)
      local word = string.unpack(({ [1] = "<i1", [2] = "<i2", [4] = "<i4" })[w], bytes, at + 1)
      fn:st(({ [1] = "b", [2] = "h", [4] = "w" })[w], base, off + at, word)
      at = at + w
    end
  end })
end

-- write_str(s, base, off, n): writes the string value at base + off, at
-- most n bytes.
function M.write_str(s, base, off, n)
  local t = f(s)
  local fn = M.current or t.fn
  t.write(fn, base, off, math.min(n, t.n))
end

-- Places --------------------------------------------------------------------

-- place(fn, base, off, ctype, how) -> memory at base + off holding a C
-- value of ctype; how: "ctx" (a tracepoint record: direct loads), "btf"
-- (BTF-typed kernel memory: direct loads), "kernel" or "user" (read with
-- bpf_probe_read_*).
function M.place(fn, base, off, ctype, how, name)
  return new(fn, "place", { base = base, off = off, ctype = ctype, how = how, name = name })
end

local SIZE = { [1] = "b", [2] = "h", [4] = "w", [8] = "dw" }
M.SIZE = SIZE

-- The address of a place as a helper argument {ptr = vreg, off = k}.
local function addr_arg(t) return { ptr = t.base, off = t.off } end
M.addr_arg = addr_arg

-- Where a string goes, as a helper argument: base is a vreg (a record) or
-- {stack = obj}.
function M.dst_arg(base, off)
  if isv(base) then return { ptr = base, off = off } end
  return { stack = base.stack, off = off }
end

-- A scalar of `size` bytes from a place into a vreg; read once per scope
-- (p.args.file.f_path twice is one load).
local function load_bytes(t, size)
  local fn = t.fn
  local key = ("load:%s:%d:%d:%d"):format(t.how, t.base.id, t.off, size)
  local v = fn:memo_get(key)
  if v then return v end
  if t.how == "ctx" or t.how == "btf" then
    v = fn:ld(SIZE[size], t.base, t.off)
  else
    local buf = fn:stack(8, "read")
    -- (fills: the read has no other effect; unread, it goes)
    fn:emit { op = "call", helper = t.how == "user" and "probe_read_user" or "probe_read_kernel",
                           args = { { stack = buf, off = 0 }, size, addr_arg(t) }, fills = buf }
    v = fn:ld(SIZE[size], { stack = buf }, 0)
  end
  fn:memo_set(key, v)
  return v
end

-- Loads the C value a place holds: ints, enums, bools and pointers;
-- char arrays become strings.
function M.load(x)
  local t = f(x)
  local ct = t.ctype
  local fn = t.fn
  if ct.kind == "int" or ct.kind == "enum" then
    if not SIZE[ct.size] then fail(("trace: %s has size %d, which no load has"):format(t.name, ct.size)) end
    local v = M.int(fn, load_bytes(t, ct.size), ct.size, ct.signed, true, ct.fmt)
    f(v).place = x -- (whose bytes T.ntop may copy as they are)
    return v
  elseif ct.kind == "ptr" then
    local v = load_bytes(t, 8)
    return new(fn, "int", { v = v, size = 8, signed = false, clean = true, ptr = ct,
      space = ct.user and "user" or (t.how == "btf" and "btf" or t.how == "ctx" and t.space or t.how) })
  elseif ct.kind == "array" and ct.char then
    return M.place_str(x, ct.n)
  end
  fail(("trace: %s is a %s; name one of its %s"):format(t.name or "the value", ct.decl or ct.kind,
    ct.kind == "array" and "elements ([i])" or "members"))
end

-- Copies max bytes of a place to base+off: from the record with loads and
-- stores as wide as the offsets allow (the verifier wants aligned context
-- loads), else with the helper that reads the place's space (a _str helper
-- stops at the NUL).
local function place_copy(t, fn, base, off, max, str)
  if t.how == "ctx" then
    local at = 0
    while at < max do
      local w = 8
      while w > 1 and ((t.off + at) % w ~= 0 or at + w > max) do w = w // 2 end
      fn:st(SIZE[w], base, off + at, fn:ld(SIZE[w], t.base, t.off + at))
      at = at + w
    end
  else
    local helper = (t.how == "user" and "probe_read_user" or "probe_read_kernel") .. (str and "_str" or "")
    fn:call(helper, { M.dst_arg(base, off), max, addr_arg(t) })
  end
end

-- A char array in memory as a string value.
function M.place_str(x, n)
  local t = f(x)
  return M.str(t.fn, n, function(fn, base, off, max) place_copy(t, fn, base, off, max, true) end)
end

-- The bytes of a place (an array, a struct) as a string value of n bytes
-- (decoded whole in user space, NULs included).
function M.place_bytes(x, n)
  local t = f(x)
  return M.str(t.fn, n, function(fn, base, off, max) place_copy(t, fn, base, off, max, false) end, { buf = true })
end

local LUA_FIELDS = {}
for _, k in ipairs { "index", "newindex", "call", "tostring", "name", "gc", "close", "mode", "metatable", "pairs",
                     "ipairs", "len", "eq", "lt", "le", "concat", "unm", "add", "sub", "mul", "div", "mod", "pow",
                     "idiv", "band", "bor", "bxor", "shl", "shr", "bnot", "trace_value", "type", "class" } do
  LUA_FIELDS["__" .. k] = true
end

-- Member and element access on places and typed pointers.
function V.__index(x, key)
  local m = METHODS[key]
  if m then return m end
  local t = f(x)
  -- (what libraries ask of any table is not a member: struct members may
  -- still start with two underscores, as struct sock's __sk_common)
  if LUA_FIELDS[key] then return nil end
  local access = M.access or fail
  return access(x, t, key)
end

function V.__newindex() fail("trace: trace values are read-only; store into a map (T.maps.name[key] = value)") end

return M
