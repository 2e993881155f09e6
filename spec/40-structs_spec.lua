-- SPDX-License-Identifier: MIT
-- Struct layouts against gcc: hundreds of random field lists (every type,
-- arrays, nesting, packed or not) compiled as C structs; sizeof, _Alignof
-- and every offsetof compared, for our layouts and for their printout;
-- encoded bytes compared with what C stores; then queries and errors.
local env = require "support.env"
local asan = require "support.asan"
local structs = require "ebpfdsl.structs"

local SEED = tonumber(os.getenv("EBPFDSL_STRUCTS_SEED") or "") or 20240611
local CASES = 600

-- xorshift64: the same sequence on every machine and Lua build.
local function rng(seed)
  local s = seed ~ 0x2545F4914F6CDD1D
  if s == 0 then s = 1 end
  local function next64()
    s = s ~ (s << 13)
    s = s ~ (s >> 7)
    s = s ~ (s << 17)
    return s
  end
  return function(n)
    if n == nil then return next64() end
    return (next64() >> 1) % n + 1
  end
end

local SCALARS = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "char", "bool", "ptr" }
local C_TYPE = {
  u8 = "uint8_t", u16 = "uint16_t", u32 = "uint32_t", u64 = "uint64_t", i8 = "int8_t", i16 = "int16_t",
  i32 = "int32_t", i64 = "int64_t", char = "char", bool = "_Bool", ptr = "void *", pad = "unsigned char",
}
local MAX_DEPTH = 4

-- ---------------------------------------------------------------------
-- Random definitions: a case is a list of struct definitions, nested ones
-- first; the last is the top. Nested structs are reused within a case.
-- ---------------------------------------------------------------------

local function gen_case(R, ci)
  local defs = {}
  local function gen_struct(depth)
    local def = { packed = R(4) == 1, fields = {} }
    for i = 1, R(9) do
      local roll = R(100)
      if roll <= 14 and depth < MAX_DEPTH then
        local sub = (#defs > 0 and R(2) == 1) and defs[R(#defs)] or gen_struct(depth + 1)
        def.fields[i] = { name = "f" .. i, sub = sub, count = R(4) == 1 and R(3) or nil }
      elseif roll <= 20 then
        def.fields[i] = { name = "f" .. i, type = "pad", count = R(7) }
      else
        local t = SCALARS[R(#SCALARS)]
        def.fields[i] = { name = "f" .. i, type = t, count = R(10) <= 3 and R(t == "char" and 24 or 6) or nil }
      end
    end
    def.name = ("c%d_s%d"):format(ci, #defs + 1)
    def.depth = depth
    defs[#defs + 1] = def
    return def
  end
  gen_struct(1)
  return defs
end

local function c_definition(def)
  local out = { "struct " .. def.name .. " {" }
  for _, f in ipairs(def.fields) do
    local decl
    if f.sub then
      decl = "struct " .. f.sub.name .. " " .. f.name
    elseif f.type == "ptr" then
      decl = "void *" .. f.name
    else
      decl = C_TYPE[f.type] .. " " .. f.name
    end
    if f.count then decl = decl .. "[" .. f.count .. "]" end
    out[#out + 1] = "\t" .. decl .. ";"
  end
  out[#out + 1] = "}" .. (def.packed and " __attribute__((packed))" or "") .. ";"
  return table.concat(out, "\n")
end

local function build_layouts(defs)
  for _, def in ipairs(defs) do
    local fields = {}
    for i, f in ipairs(def.fields) do
      fields[i] = { f.name, f.sub and f.sub.layout or f.type, f.count }
    end
    def.layout = structs.define(def.name, fields, { packed = def.packed })
  end
  return defs[#defs]
end

-- Every field path of a definition: nested paths, the last element of
-- arrays, and one random element's fields for arrays of structs.
local function paths(R, def, prefix, out)
  for _, f in ipairs(def.fields) do
    local p = prefix .. f.name
    out[#out + 1] = p
    if f.count then
      out[#out + 1] = ("%s[%d]"):format(p, f.count - 1)
      if f.sub then paths(R, f.sub, ("%s[%d]."):format(p, R(f.count) - 1), out) end
    elseif f.sub then
      paths(R, f.sub, p .. ".", out)
    end
  end
  return out
end

-- C statements that print size, align and each path's offset and size.
local function c_probes(tag, top, ps)
  local out = { ("\tprintf(\"%s sizeof %%zu %%zu\\n\", sizeof(struct %s), _Alignof(struct %s));"):format(tag,
    top.name, top.name) }
  for _, p in ipairs(ps) do
    out[#out + 1] = ("\tP(\"%s\", struct %s, %s);"):format(tag, top.name, p)
  end
  return table.concat(out, "\n")
end

local C_HEAD = [[
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#define P(tag, T, m) printf("%s %s %zu %zu\n", tag, #m, offsetof(T, m), sizeof(((T *)0)->m))
]]

-- Compiles and runs a C program; its output lines as {tag = {path = {off, size}}}.
local function run_c(dir, name, src)
  local f = assert(io.open(dir .. "/" .. name .. ".c", "w"))
  f:write(src)
  f:close()
  env.run(("gcc -std=gnu11 -O0 -w -o %s/%s %s/%s.c"):format(dir, name, dir, name))
  return env.run(dir .. "/" .. name)
end

local function parse_layout_output(text)
  local got = {}
  for tag, path, a, b in text:gmatch("(c%d+) (%S+) (%d+) (%d+)\n") do
    got[tag] = got[tag] or {}
    got[tag][path] = { tonumber(a), tonumber(b) }
  end
  return got
end

-- Compares ours with gcc's numbers; returns the count compared and the
-- first mismatches.
local function compare(cases, got)
  local n, bad = 0, {}
  local function check(what, ours, theirs)
    n = n + 1
    if ours ~= theirs and #bad < 12 then bad[#bad + 1] = ("%s: ours %s, gcc %s"):format(what, ours, theirs) end
  end
  for ci, c in ipairs(cases) do
    local tag, E = "c" .. ci, c.top.layout
    local g = got[tag] or {}
    local sz = g.sizeof or {}
    check(tag .. " sizeof", E:size(), sz[1])
    check(tag .. " _Alignof", E:align(), sz[2])
    for _, p in ipairs(c.paths) do
      local gp = g[p] or {}
      check(tag .. " offsetof " .. p, E:offset(p), gp[1])
      check(tag .. " sizeof " .. p, E:field_size(p), gp[2])
    end
  end
  return n, bad
end

local function failure(bad)
  return ("seed %d (EBPFDSL_STRUCTS_SEED=%d to repeat):\n%s"):format(SEED, SEED, table.concat(bad, "\n"))
end

-- ---------------------------------------------------------------------
-- Random values: the Lua table E:encode takes, the C statements storing
-- the same values, and the table E:decode must give back.
-- ---------------------------------------------------------------------

local RANGE = {
  u8 = { 0, 0xff }, u16 = { 0, 0xffff }, u32 = { 0, 0xffffffff }, i8 = { -0x80, 0x7f }, i16 = { -0x8000, 0x7fff },
  i32 = { -0x80000000, 0x7fffffff },
}

local function octal(s)
  return (s:gsub(".", function(ch) return ("\\%03o"):format(ch:byte()) end))
end

local function rand_int(R, t)
  if t == "u64" or t == "i64" or t == "ptr" then
    local edges = { 0, -1, math.mininteger, math.maxinteger, 1 }
    if R(2) == 1 then return edges[R(#edges)] end
    return R()
  end
  local lo, hi = RANGE[t][1], RANGE[t][2]
  local roll = R(6)
  if roll == 1 then return lo elseif roll == 2 then return hi elseif roll == 3 then return 0 end
  return lo + (R() >> 1) % (hi - lo + 1)
end

local function c_int(t, v)
  if t == "u64" then return ("0x%xULL"):format(v) end
  if t == "ptr" then return ("(void *)0x%xULL"):format(v) end
  if v == math.mininteger then return "(-9223372036854775807LL-1)" end
  if t:sub(1, 1) == "u" then return ("%dU"):format(v) end
  return ("%dLL"):format(v)
end

local function rand_text(R, n)
  local t = {}
  for i = 1, n do t[i] = string.char(32 + R(94)) end
  return table.concat(t)
end

local function rand_bytes(R, n)
  local t = {}
  for i = 1, n do t[i] = string.char(R(256) - 1) end
  return table.concat(t)
end

local gen_values

-- One scalar: its Lua value, its C assignment, its decoded form.
local function scalar_value(R, t, lv, stmts)
  if t == "bool" then
    local v = R(2) == 1
    stmts[#stmts + 1] = ("%s = %d;"):format(lv, v and 1 or 0)
    return v, v
  elseif t == "char" then
    if R(3) == 1 then return "", "" end
    local ch = rand_text(R, 1)
    stmts[#stmts + 1] = ("%s = '%s';"):format(lv, octal(ch))
    return ch, ch
  end
  local v = rand_int(R, t)
  stmts[#stmts + 1] = ("%s = %s;"):format(lv, c_int(t, v))
  return v, v
end

local function zero_of(f)
  local function one()
    if f.sub then
      local z = {}
      for _, g in ipairs(f.sub.fields) do
        if g.type ~= "pad" then z[g.name] = zero_of(g) end
      end
      return z
    end
    if f.type == "bool" then return false end
    if f.type == "char" then return "" end
    return 0
  end
  if not f.count then return one() end
  if f.type == "char" then return "" end
  if f.type == "u8" then return ("\0"):rep(f.count) end
  local l = {}
  for i = 1, f.count do l[i] = one() end
  return l
end

local function field_value(R, f, lv, stmts)
  if f.count and f.type == "char" then
    local n = R(3) == 1 and f.count or R(f.count + 1) - 1 -- often exactly full
    local s = rand_text(R, n)
    if n > 0 then stmts[#stmts + 1] = ("memcpy(%s, \"%s\", %d);"):format(lv, octal(s), n) end
    return s, s
  elseif f.count and f.type == "u8" then
    local s = rand_bytes(R, f.count)
    stmts[#stmts + 1] = ("memcpy(%s, \"%s\", %d);"):format(lv, octal(s), f.count)
    if R(2) == 1 then
      local list = {}
      for i = 1, #s do list[i] = s:byte(i) end
      return list, s
    end
    return s, s
  elseif f.count then
    local given, decoded = {}, zero_of(f)
    local n = R(4) == 1 and R(f.count) or f.count -- a shorter list leaves the rest zero
    for i = 1, n do
      local elv = ("%s[%d]"):format(lv, i - 1)
      if f.sub then
        given[i], decoded[i] = gen_values(R, f.sub, elv, stmts)
      else
        given[i], decoded[i] = scalar_value(R, f.type, elv, stmts)
      end
    end
    return given, decoded
  elseif f.sub then
    return gen_values(R, f.sub, lv, stmts)
  end
  return scalar_value(R, f.type, lv, stmts)
end

gen_values = function(R, def, prefix, stmts)
  local given, decoded = {}, {}
  for _, f in ipairs(def.fields) do
    if f.type ~= "pad" then
      if R(7) == 1 then
        decoded[f.name] = zero_of(f) -- absent: zero
      else
        given[f.name], decoded[f.name] = field_value(R, f, prefix .. "." .. f.name, stmts)
      end
    end
  end
  return given, decoded
end

local function hex_to_bytes(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- ---------------------------------------------------------------------
-- The random cases, built once.
-- ---------------------------------------------------------------------

local R = rng(SEED)
local cases = {}
local n_structs, n_packed, n_paths = 0, 0, 0
for ci = 1, CASES do
  local defs = gen_case(R, ci)
  local top = defs[#defs]
  build_layouts(defs)
  local c = { defs = defs, top = top, paths = paths(R, top, "", {}) }
  c.stmts = {}
  c.given, c.decoded = gen_values(R, top, "s", c.stmts)
  cases[ci] = c
  n_structs = n_structs + #defs
  n_paths = n_paths + #c.paths
  for _, d in ipairs(defs) do
    if d.packed then n_packed = n_packed + 1 end
  end
end

describe("layouts against gcc", function()
  local dir
  local function tmp()
    dir = dir or env.tmpdir()
    return dir
  end
  teardown(function()
    if dir then env.run("rm -rf " .. dir) end
  end)

  env.it(("%d random field lists (%d structs, %d packed, %d field paths): sizeof, _Alignof, offsetof"):format(
    CASES, n_structs, n_packed, n_paths), "gcc", function()
    local src = { C_HEAD }
    for _, c in ipairs(cases) do
      for _, d in ipairs(c.defs) do src[#src + 1] = c_definition(d) end
    end
    src[#src + 1] = "int main(void)\n{"
    for ci, c in ipairs(cases) do src[#src + 1] = c_probes("c" .. ci, c.top, c.paths) end
    src[#src + 1] = "\treturn 0;\n}\n"
    local n, bad = compare(cases, parse_layout_output(run_c(tmp(), "layouts", table.concat(src, "\n"))))
    assert(#bad == 0, failure(bad))
    assert.is_true(n >= CASES * 4)
  end)

  env.it("the printed C struct compiles to the same layout, for every random case", "gcc", function()
    local src = { C_HEAD }
    for _, c in ipairs(cases) do src[#src + 1] = tostring(c.top.layout) end
    src[#src + 1] = "int main(void)\n{"
    for ci, c in ipairs(cases) do src[#src + 1] = c_probes("c" .. ci, c.top, c.paths) end
    src[#src + 1] = "\treturn 0;\n}\n"
    local _, bad = compare(cases, parse_layout_output(run_c(tmp(), "printed", table.concat(src, "\n"))))
    assert(#bad == 0, failure(bad))
  end)

  env.it("encode gives the bytes C stores, and decode gives the values back, for every random case", "gcc",
    function()
      local src = { C_HEAD, [[
static void dump(const char *tag, const void *p, size_t n)
{
	printf("%s ", tag);
	for (size_t i = 0; i < n; i++)
		printf("%02x", ((const unsigned char *)p)[i]);
	printf("\n");
}
]] }
      for _, c in ipairs(cases) do
        for _, d in ipairs(c.defs) do src[#src + 1] = c_definition(d) end
      end
      for ci, c in ipairs(cases) do
        src[#src + 1] = ("static void v%d(void)\n{\n\tstruct %s s;\n\tmemset(&s, 0, sizeof(s));\n\t%s\n"
          .. "\tdump(\"c%d\", &s, sizeof(s));\n}"):format(ci, c.top.name, table.concat(c.stmts, "\n\t"), ci)
      end
      src[#src + 1] = "int main(void)\n{"
      for ci in ipairs(cases) do src[#src + 1] = ("\tv%d();"):format(ci) end
      src[#src + 1] = "\treturn 0;\n}\n"
      local out = run_c(tmp(), "values", table.concat(src, "\n"))
      local seen = 0
      for tag, hex in out:gmatch("c(%d+) (%x*)\n") do
        local c = cases[tonumber(tag)]
        local E, bytes = c.top.layout, hex_to_bytes(hex)
        local ok, enc = pcall(E.encode, E, c.given)
        assert(ok, failure { ("c%s: encode raised %s"):format(tag, tostring(enc)) })
        if enc ~= bytes then
          error(failure { ("c%s: encode gives %s, C stores %s\n%s"):format(tag, (enc:gsub(".", function(ch)
            return ("%02x"):format(ch:byte())
          end)), hex, tostring(E)) })
        end
        assert.same(c.decoded, E:decode(bytes), failure { "c" .. tag .. ": decode" })
        -- the same record at an offset, and three in a row
        assert.same(c.decoded, E:decode("xyz" .. bytes, 3), failure { "c" .. tag .. ": decode at offset" })
        local many = E:decode_many(bytes .. bytes .. bytes)
        assert.equal(3, #many)
        assert.same(c.decoded, many[3], failure { "c" .. tag .. ": decode_many" })
        seen = seen + 1
      end
      assert.equal(CASES, seen)
    end)
end)

-- The C API alone, linked against libebpfdsl.a with no Lua: gcc's own
-- struct is the oracle for the layout and for the encoded bytes.
local C_API_TEST = [[
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "ebpfdsl.h"

struct in { int16_t a; char s[5]; };
struct out { uint8_t b; struct in in[2]; int64_t q; _Bool ok; void *p; } __attribute__((packed));

static int fails;
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); fails++; } } while (0)

/* a source that gives a value to every field: a counter */
static int src_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t *v)
{
	int *n = ctx;
	*v = c->field->type == EBPFDSL_TYPE_BOOL ? 1 : -(++*n);
	if (c->field->type == EBPFDSL_TYPE_PTR) *v = 0x1234;
	return 1;
}
static int src_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char **p, size_t *len)
{
	(void)ctx; (void)c;
	*p = "abcde";
	*len = 5;
	return 1;
}
static int src_enter(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	(void)ctx; (void)c; (void)nest;
	return 1;
}
static int src_too_big(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t *v)
{
	(void)ctx;
	*v = c->field->type == EBPFDSL_TYPE_I16 ? 40000 : 0;
	return 1;
}

int main(void)
{
	struct ebpfdsl_layout_opts packed = { .sz = sizeof(packed), .packed = 1 };
	ebpfdsl_layout *in = ebpfdsl_layout__new("in", NULL);
	ebpfdsl_layout *out = ebpfdsl_layout__new("out", &packed);
	struct ebpfdsl_layout_source src = { .sz = sizeof(src), .scalar = src_scalar, .bytes = src_bytes,
					     .enter = src_enter };
	struct ebpfdsl_layout_field f;
	struct out want;
	unsigned char buf[sizeof(struct out)];
	char err[256];
	int64_t v;
	int n = 0;

	CHECK(ebpfdsl_type_parse("s16") == EBPFDSL_TYPE_I16 && ebpfdsl_type_parse("x") == -1);
	CHECK(!strcmp(ebpfdsl_type_name(EBPFDSL_TYPE_PTR), "ptr") && ebpfdsl_type_size(EBPFDSL_TYPE_PTR) == sizeof(void *));
	CHECK(ebpfdsl_type_is_signed(EBPFDSL_TYPE_I8) && !ebpfdsl_type_is_signed(EBPFDSL_TYPE_CHAR));
	ebpfdsl_layout__add_field(in, "a", EBPFDSL_TYPE_I16, 0);
	ebpfdsl_layout__add_field(in, "s", EBPFDSL_TYPE_CHAR, 5);
	ebpfdsl_layout__add_field(out, "b", EBPFDSL_TYPE_U8, 0);
	ebpfdsl_layout__add_struct(out, "in", in, 2);
	ebpfdsl_layout__add_field(out, "q", EBPFDSL_TYPE_I64, 0);
	ebpfdsl_layout__add_field(out, "ok", EBPFDSL_TYPE_BOOL, 0);
	ebpfdsl_layout__add_field(out, "p", EBPFDSL_TYPE_PTR, 0);
	CHECK(ebpfdsl_layout__add_field(in, "late", EBPFDSL_TYPE_U8, 0) == -1);
	CHECK(strstr(ebpfdsl_layout__error(in), "can no longer grow") != NULL);
	CHECK(ebpfdsl_layout__error(out) == NULL);
	CHECK(ebpfdsl_layout__size(out) == sizeof(struct out) && ebpfdsl_layout__align(out) == _Alignof(struct out));
	CHECK(ebpfdsl_layout__size(in) == sizeof(struct in) && ebpfdsl_layout__align(in) == _Alignof(struct in));
	CHECK(ebpfdsl_layout__packed(out) && !ebpfdsl_layout__packed(in));
	CHECK(!strcmp(ebpfdsl_layout__name(out), "out") && ebpfdsl_layout__field_count(out) == 5);
	CHECK(ebpfdsl_layout__field(out, 1, &f) == 0 && f.count == 2 && f.layout == in);
	CHECK(f.offset == offsetof(struct out, in));
	CHECK(ebpfdsl_layout__field(out, 5, &f) == -ENOENT);
	CHECK(ebpfdsl_layout__lookup(out, "in[1].s", &f, NULL, 0) == 0 && f.offset == offsetof(struct out, in[1].s));
	CHECK(ebpfdsl_layout__lookup(out, "in[2].s", &f, NULL, 0) == -ERANGE);
	CHECK(ebpfdsl_layout__lookup(out, "in.s", &f, NULL, 0) == -EINVAL);
	CHECK(ebpfdsl_layout__print(out, NULL, 0) > 0);
	ebpfdsl_layout__free(in);

	/* the counter gives b -1, which does not fit u8 */
	CHECK(ebpfdsl_layout__encode(out, buf, sizeof(buf), &src, &n, err, sizeof(err)) == -ERANGE);
	CHECK(strstr(err, "'b': -1 does not fit u8") != NULL);
	/* the same shape with b as padding: every value fits; compare with
	 * what C stores for the values the counter gives, in field order */
	memset(&want, 0, sizeof(want));
	ebpfdsl_layout *o2 = ebpfdsl_layout__new("o2", &packed);
	ebpfdsl_layout__add_pad(o2, "b", 1);
	ebpfdsl_layout *in2 = ebpfdsl_layout__new("in", NULL);
	ebpfdsl_layout__add_field(in2, "a", EBPFDSL_TYPE_I16, 0);
	ebpfdsl_layout__add_field(in2, "s", EBPFDSL_TYPE_CHAR, 5);
	ebpfdsl_layout__add_struct(o2, "in", in2, 2);
	ebpfdsl_layout__add_field(o2, "q", EBPFDSL_TYPE_I64, 0);
	ebpfdsl_layout__add_field(o2, "ok", EBPFDSL_TYPE_BOOL, 0);
	ebpfdsl_layout__add_field(o2, "p", EBPFDSL_TYPE_PTR, 0);
	ebpfdsl_layout__free(in2);
	n = 0;
	CHECK(ebpfdsl_layout__encode(o2, buf, sizeof(buf), &src, &n, err, sizeof(err)) == 0);
	want.in[0].a = -1; memcpy(want.in[0].s, "abcde", 5);
	want.in[1].a = -2; memcpy(want.in[1].s, "abcde", 5);
	want.q = -3; want.ok = 1; want.p = (void *)0x1234;
	CHECK(memcmp(buf, &want, sizeof(want)) == 0);
	src.scalar = src_too_big;
	CHECK(ebpfdsl_layout__encode(o2, buf, sizeof(buf), &src, &n, err, sizeof(err)) == -ERANGE);
	CHECK(strstr(err, "'in[0].a': 40000 does not fit i16") != NULL);
	CHECK(ebpfdsl_layout__encode(o2, buf, 3, &src, &n, err, sizeof(err)) == -EMSGSIZE);

	CHECK(ebpfdsl_layout__get(o2, &want, sizeof(want), "in[1].a", &v) == 0 && v == -2);
	CHECK(ebpfdsl_layout__get(o2, &want, sizeof(want), "in[1]", &v) == -EINVAL);
	CHECK(ebpfdsl_layout__get(o2, &want, 4, "q", &v) == -EMSGSIZE);
	CHECK(ebpfdsl_layout__set(o2, &want, sizeof(want), "q", 77) == 0 && want.q == 77);
	CHECK(ebpfdsl_layout__set(o2, &want, sizeof(want), "ok", 2) == -ERANGE);
	CHECK(ebpfdsl_scalar_fits(EBPFDSL_TYPE_U16, 65535) && !ebpfdsl_scalar_fits(EBPFDSL_TYPE_U16, 65536));
	CHECK(ebpfdsl_scalar_put(EBPFDSL_TYPE_I8, buf, -128) == 0 && ebpfdsl_scalar_get(EBPFDSL_TYPE_I8, buf) == -128);
	CHECK(ebpfdsl_scalar_get(EBPFDSL_TYPE_U8, buf) == 128 && ebpfdsl_scalar_load(EBPFDSL_TYPE_I8, buf) == -128);
	/* how decode reports each field, and a text's length (cut at NUL) */
	CHECK(ebpfdsl_layout__lookup(o2, "in[1].s", &f, NULL, 0) == 0);
	CHECK(ebpfdsl_layout_value_kind(&f) == EBPFDSL_LAYOUT_VALUE_TEXT && ebpfdsl_layout_value_len(&f, "ab\0de") == 2);
	CHECK(ebpfdsl_layout_value_len(&f, "abcde") == 5);
	CHECK(ebpfdsl_layout__field(o2, 0, &f) == 0 && ebpfdsl_layout_value_kind(&f) == EBPFDSL_LAYOUT_VALUE_NONE);
	CHECK(ebpfdsl_layout__field(o2, 1, &f) == 0 && ebpfdsl_layout_value_kind(&f) == EBPFDSL_LAYOUT_VALUE_NESTED);
	CHECK(ebpfdsl_layout__field(o2, 2, &f) == 0 && ebpfdsl_layout_value_kind(&f) == EBPFDSL_LAYOUT_VALUE_INT);
	CHECK(ebpfdsl_layout__field(o2, 3, &f) == 0 && ebpfdsl_layout_value_kind(&f) == EBPFDSL_LAYOUT_VALUE_BOOL);
	ebpfdsl_layout__free(o2);
	ebpfdsl_layout__free(out);
	ebpfdsl_layout__free(NULL);
	printf("%s\n", fails ? "FAILED" : "ok");
	return fails != 0;
}
]]

describe("the C API", function()
  env.it("builds, queries, encodes and reads layouts with no Lua, as gcc lays out the same structs", "gcc", function()
    local dir = env.tmpdir()
    local bin = require("support.capi").build(dir, "c_api", C_API_TEST, { std = "gnu11" })
    local ok, out = pcall(env.run, bin)
    env.run("rm -rf " .. dir)
    assert(ok, out)
    assert.equal("ok\n", out)
  end)
end)

-- ---------------------------------------------------------------------
-- Hand-written cases
-- ---------------------------------------------------------------------

local Hdr = structs.define("hdr", { { "len", "u16" }, { "kind", "u8" } })
local Ev = structs.event("conn_event", {
  { "timestamp", "u64" }, { "pid", "u32" }, { "comm", "char", 16 }, { "hdr", Hdr }, { "_pad", "pad", 3 },
  { "args", "i32", 3 }, { "hdrs", Hdr, 2 }, { "ok", "bool" }, { "addr", "ptr" },
})

describe("queries", function()
  it("give size, alignment, offsets, sizes and types, nested paths and elements included", function()
    assert.equal(4, Hdr:size())
    assert.equal(2, Hdr:align())
    assert.equal(72, Ev:size())
    assert.equal(8, Ev:align())
    assert.equal(72, #Ev)
    assert.equal(0, Ev:offset("timestamp"))
    assert.equal(8, Ev:offset("pid"))
    assert.equal(12, Ev:offset("comm"))
    assert.equal(28, Ev:offset("hdr"))
    assert.equal(30, Ev:offset("hdr.kind"))
    assert.equal(32, Ev:offset("_pad"))
    assert.equal(36, Ev:offset("args"))
    assert.equal(44, Ev:offset("args[2]"))
    assert.equal(4, Ev:field_size("args[2]"))
    assert.equal(12, Ev:field_size("args"))
    assert.equal(54, Ev:offset("hdrs[1].kind"))
    assert.equal(64, Ev:offset("addr"))
    assert.equal(8, Ev:field_size("addr"))
    assert.equal("char", Ev:field_type("comm"))
    assert.equal("struct hdr", Ev:field_type("hdr"))
    assert.equal("u8", Ev:field_type("hdrs[0].kind"))
    assert.equal("pad", Ev:field_type("_pad"))
    assert.equal("conn_event", Ev:name())
    assert.is_false(Ev:packed())
    assert.is_true(Ev:has("hdrs[1].len"))
    assert.is_false(Ev:has("hdrs[2].len"))
    assert.is_false(Ev:has("nope"))
  end)

  it("list the fields in order with their information", function()
    local fs = Ev:fields()
    local names = {}
    for i, f in ipairs(fs) do names[i] = f.name end
    assert.same({ "timestamp", "pid", "comm", "hdr", "_pad", "args", "hdrs", "ok", "addr" }, names)
    assert.same({ name = "comm", type = "char", offset = 12, size = 16, count = 16, elem_size = 1, align = 1,
                  signed = false }, fs[3])
    assert.equal(Hdr, fs[4].layout)
    assert.equal(Hdr, fs[7].layout)
    assert.equal(2, fs[7].count)
    assert.is_true(fs[6].signed)
    assert.equal(Hdr, Ev:field("hdrs[1]").layout)
    assert.equal(52, Ev:field("hdrs[1]").offset)
    assert.is_nil(Ev:field("hdrs[1]").count)
    -- deep paths give back the very objects each level was built from
    local Mid = structs.define("mid", { { "h", Hdr }, { "hs", Hdr, 3 } })
    local Top = structs.define("top", { { "x", "u8" }, { "m", Mid, 2 }, { "e", Ev } })
    assert.equal(Mid, Top:field("m").layout)
    assert.equal(Mid, Top:field("m[1]").layout)
    assert.equal(Hdr, Top:field("m[1].hs[2]").layout)
    assert.equal(Hdr, Top:field("m[0].h").layout)
    assert.equal(Ev, Top:field("e").layout)
    assert.equal(Hdr, Top:field("e.hdrs[0]").layout)
    assert.is_nil(Top:field("m[1].hs[2].len").layout)
  end)

  it("have the clj-ebpf names", function()
    assert.equal(72, structs.event_size(Ev))
    assert.equal(30, structs.event_field_offset(Ev, "hdr.kind"))
    assert.equal(16, structs.event_field_size(Ev, "comm"))
    assert.equal("i32", structs.event_field_type(Ev, "args"))
    assert.same({ "timestamp", "pid", "comm", "hdr", "_pad", "args", "hdrs", "ok", "addr" }, structs.event_fields(Ev))
    assert.is_true(structs.is_layout(Ev))
    assert.is_false(structs.is_layout({}))
  end)

  it("lay out packed structs without any padding, and C ones with it", function()
    local fields = { { "a", "u8" }, { "b", "u64" }, { "c", "u16" } }
    local C = structs.define("cl", fields)
    local P = structs.define("pk", fields, { packed = true })
    assert.same({ 24, 8, 8, 16 }, { C:size(), C:align(), C:offset("b"), C:offset("c") })
    assert.same({ 11, 1, 1, 9 }, { P:size(), P:align(), P:offset("b"), P:offset("c") })
    assert.is_true(P:packed())
    -- a packed struct nested in a C one sits at alignment 1
    local O = structs.define("outer", { { "x", "u8" }, { "p", P }, { "y", "u32" } })
    assert.same({ 1, 12, 16, 4 }, { O:offset("p"), O:offset("y"), O:size(), O:align() })
  end)
end)

describe("errors", function()
  local function raises(pattern, fn, ...)
    local ok, err = pcall(fn, ...)
    assert.is_false(ok)
    assert.truthy(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
  end

  it("refuse bad definitions, naming the field", function()
    raises("duplicate field 'a' in layout 'x'", structs.define, "x", { { "a", "u32" }, { "a", "u8" } })
    raises("field 'a': unknown type 'u33' (types: u8, u16", structs.define, "x", { { "a", "u33" } })
    raises("field 'a': the count must be at least 1, got 0", structs.define, "x", { { "a", "u32", 0 } })
    raises("field 'a': the count must be at least 1, got -2", structs.define, "x", { { "a", "u32", -2 } })
    raises("field 'a': the count must be an integer", structs.define, "x", { { "a", "u32", 1.5 } })
    raises("needs at least one field", structs.define, "x", {})
    raises("layout name 'my struct' is not a C identifier", structs.define, "my struct", { { "a", "u8" } })
    raises("field name 'int' is a C keyword", structs.define, "x", { { "int", "u8" } })
    raises("field 2 must be a table", structs.define, "x", { { "a", "u8" }, "b" })
    raises("layout 'x': unknown field 'pakced' (did you mean 'packed'?)", structs.define, "x", { { "a", "u8" } },
      { pakced = true })
    raises("the type must be a type name or a layout", structs.define, "x", { { "a", {} } })
    local H2 = structs.define("hdr", { { "x", "u8" } })
    raises("two different layouts are named 'hdr'", structs.define, "x", { { "a", Hdr }, { "b", H2 } })
    raises("structs.define: argument 2 must be a list of fields", structs.define, "x", nil)
  end)

  it("refuse unknown fields and bad paths in queries", function()
    raises("no field 'pdi' in struct conn_event (its fields: timestamp, pid, comm, hdr, _pad, args, hdrs, ok, addr)",
      Ev.offset, Ev, "pdi")
    raises("no field 'lne' in struct hdr at 'hdr.lne' (its fields: len, kind)", Ev.offset, Ev, "hdr.lne")
    raises("index 2 out of range in 'hdrs[2]' (hdrs has 2 elements)", Ev.offset, Ev, "hdrs[2]")
    raises("'pid' in 'pid[0]' is not an array", Ev.offset, Ev, "pid[0]")
    raises("'pid' in 'pid.x' is not a struct", Ev.offset, Ev, "pid.x")
    raises("'hdrs' in 'hdrs.len' is not a struct", Ev.offset, Ev, "hdrs.len")
    raises("bad index", Ev.offset, Ev, "args[x]")
    raises("event_field_offset: no field 'nope'", structs.event_field_offset, Ev, "nope")
  end)

  it("refuse values that do not fit their field, and unknown fields", function()
    local T = structs.define("t", {
      { "u8", "u8" }, { "i8", "i8" }, { "u32", "u32" }, { "b", "bool" }, { "c", "char" }, { "s", "char", 4 },
      { "l", "i16", 2 }, { "h", Hdr },
    })
    raises("'u8': 256 does not fit u8 (0..255)", T.encode, T, { u8 = 256 })
    raises("'u8': -1 does not fit u8 (0..255)", T.encode, T, { u8 = -1 })
    raises("'i8': -129 does not fit i8 (-128..127)", T.encode, T, { i8 = -129 })
    raises("'u32': -1 does not fit u32", T.encode, T, { u32 = -1 })
    raises("'u32': 4294967296 does not fit u32", T.encode, T, { u32 = 1 << 32 })
    raises("'b': 2 does not fit bool (0 or 1)", T.encode, T, { b = 2 })
    raises("'c' must be one character or a byte (-128..255), got 256", T.encode, T, { c = 256 })
    raises("'s': 5 bytes do not fit char[4]", T.encode, T, { s = "abcde" })
    raises("'l' has 3 elements; the array holds 2", T.encode, T, { l = { 1, 2, 3 } })
    raises("'l[1]': 40000 does not fit i16", T.encode, T, { l = { 1, 40000 } })
    raises("'h.len': 65536 does not fit u16", T.encode, T, { h = { len = 65536 } })
    raises("'u8' must be an integer, got string", T.encode, T, { u8 = "1" })
    raises("'u8' must be an integer, got 1.5", T.encode, T, { u8 = 1.5 })
    raises("'b' must be a boolean, got string", T.encode, T, { b = "yes" })
    raises("'h' must be a table, got number", T.encode, T, { h = 1 })
    raises("unknown field 'x' (struct t has u8, i8, u32, b, c, s, l, h)", T.encode, T, { x = 1 })
    raises("unknown field 'h.lne' (struct hdr has len, kind)", T.encode, T, { h = { lne = 1 } })
    raises("'_pad' is padding and takes no value", Ev.encode, Ev, { _pad = 1 })
  end)

  it("hold values to the ranges string.pack holds them to, and name the range (core.scalar_fits)", function()
    local core = require "ebpfdsl.core"
    local PACK = { u8 = "<I1", u16 = "<I2", u32 = "<I4", i8 = "<i1", i16 = "<i2", i32 = "<i4" }
    local edges = { 0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769, 65535, 65536,
      2147483647, 2147483648, -2147483648, -2147483649, 4294967295, 4294967296, math.maxinteger, math.mininteger }
    for t, fmt in pairs(PACK) do
      for _, v in ipairs(edges) do
        assert.equal(pcall(string.pack, fmt, v), (core.scalar_fits(t, v)), t .. " " .. v)
      end
    end
    for _, v in ipairs(edges) do
      -- char takes a signed or an unsigned byte; bool 0 or 1; the 64-bit types any bits
      assert.equal(pcall(string.pack, "<i1", v) or pcall(string.pack, "<I1", v), (core.scalar_fits("char", v)))
      assert.equal(v == 0 or v == 1, (core.scalar_fits("bool", v)))
      for _, t in ipairs { "u64", "i64", "ptr" } do assert.is_true((core.scalar_fits(t, v))) end
    end
    local texts = {}
    for _, t in ipairs { "u8", "u16", "u32", "i8", "i16", "i32", "char", "bool", "u64" } do
      texts[#texts + 1] = select(2, core.scalar_fits(t, 0))
    end
    assert.same({ "0..255", "0..65535", "0..4294967295", "-128..127", "-32768..32767", "-2147483648..2147483647",
      "-128..255", "0 or 1", "any 64 bits" }, texts)
    raises("not a scalar type: 'pad'", core.scalar_fits, "pad", 0)
    raises("not a scalar type: 'u33'", core.scalar_fits, "u33", 0)
  end)

  it("refuse short input to decode", function()
    raises("decode: struct hdr needs 4 bytes at offset 0, got 3", Hdr.decode, Hdr, "abc")
    raises("decode: struct hdr needs 4 bytes at offset 2, got 5", Hdr.decode, Hdr, "abcde", 2)
    raises("decode_many: 3 records of struct hdr", Hdr.decode_many, Hdr, ("x"):rep(11), 3)
    raises("stride must be at least 1", Hdr.decode_many, Hdr, ("x"):rep(11), 1, 0)
  end)
end)

describe("printing", function()
  it("shows the C struct with offsets, padding and nested definitions", function()
    local text = tostring(Ev)
    assert.truthy(text:find("struct hdr {\n\t__u16 len;", 1, true))
    assert.truthy(text:find("/* 1 byte of padding at the end */\n}; /* size 4, align 2 */", 1, true))
    assert.truthy(text:find("struct conn_event {\n\t__u64 timestamp; ", 1, true))
    assert.truthy(text:find("\tchar comm%[16%];%s+/%* offset 12, size 16 %*/"))
    assert.truthy(text:find("\tstruct hdr hdrs%[2%];%s+/%* offset 48, size 8 %*/"))
    assert.truthy(text:find("\t__u8 _pad%[3%];%s+/%* offset 32, size 3, explicit padding %*/"))
    assert.truthy(text:find("\t/* 1 byte of padding */\n\t__s32 args[3];", 1, true))
    assert.truthy(text:find("\tvoid %*addr;"))
    assert.truthy(text:find("\t_Bool ok;", 1, true))
    local _, defs = text:gsub("struct hdr {", "")
    assert.equal(1, defs)
    local P = structs.define("pk", { { "a", "u8" }, { "b", "u64" } }, { packed = true })
    assert.truthy(tostring(P):find("} __attribute__((packed)); /* size 9, align 1 */", 1, true))
  end)
end)

describe("round trips", function()
  local T = structs.define("edges", {
    { "i8", "i8" }, { "i16", "i16" }, { "i32", "i32" }, { "i64", "i64" }, { "u64", "u64" }, { "u32", "u32" },
    { "yes", "bool" }, { "no", "bool" }, { "name", "char", 8 }, { "raw", "u8", 4 }, { "c", "char" },
    { "list", "u16", 3 }, { "p", "ptr" },
  })

  it("keep edge values: signed minimums, the u64 top bit, full strings, booleans", function()
    local v = {
      i8 = -128, i16 = -32768, i32 = -2147483648, i64 = math.mininteger, u64 = math.mininteger, u32 = 0xffffffff,
      yes = true, no = false, name = "12345678", raw = "\0\255\1\0", c = "z", list = { 65535, 0, 1 },
      p = -1,
    }
    local b = T:encode(v)
    assert.equal(T:size(), #b)
    assert.same(v, T:decode(b))
    -- the u64 top bit is the integer with the same bits
    assert.equal(0x8000000000000000, T:decode(b).u64)
    assert.equal(string.pack("<i8", math.mininteger), b:sub(T:offset("u64") + 1, T:offset("u64") + 8))
    -- signed types sign-extend
    assert.equal(string.pack("<i1", -128), b:sub(1, 1))
  end)

  it("cut char arrays at NUL, keep u8 arrays whole, and zero what is missing", function()
    local d = T:decode(T:encode { name = "ab\0cd", raw = { 1, 2 } })
    assert.equal("ab", d.name)
    assert.equal("\1\2\0\0", d.raw)
    assert.equal(0, d.i64)
    assert.is_false(d.yes)
    assert.equal("", d.c)
    assert.same({ 0, 0, 0 }, d.list)
    assert.equal(("\0"):rep(T:size()), T:encode {})
    assert.equal(1, T:decode(T:encode { c = 1 }).c:byte())
    assert.is_true(T:decode(T:encode { yes = 1 }).yes)
  end)

  it("decode can fill a table the caller gives, nested tables included", function()
    local into = {}
    local r1 = Ev:decode(Ev:encode { pid = 1, hdr = { len = 2 }, args = { 3 }, hdrs = { {}, { kind = 4 } } }, 0, into)
    assert.equal(into, r1)
    local hdr, hdrs = into.hdr, into.hdrs
    Ev:decode(Ev:encode { pid = 5, hdr = { kind = 6 }, hdrs = { { len = 7 } } }, 0, into)
    assert.equal(hdr, into.hdr)
    assert.equal(hdrs, into.hdrs)
    assert.same(Ev:decode(Ev:encode { pid = 5, hdr = { kind = 6 }, hdrs = { { len = 7 } } }), into)
  end)

  it("decode_many reads records at a stride and an offset", function()
    local recs = {}
    for i = 1, 5 do recs[i] = "HDR!" .. Hdr:encode { len = i, kind = 10 + i } end
    local all = table.concat(recs)
    local got = Hdr:decode_many(all, nil, 8, 4)
    assert.equal(5, #got)
    for i = 1, 5 do assert.same({ len = i, kind = 10 + i }, got[i]) end
    assert.equal(2, #Hdr:decode_many(all, 2, 8, 4))
    assert.same({}, Hdr:decode_many("", 0))
  end)
end)

describe("deep nesting", function()
  -- As deep as a layout may nest: 31 levels of one-element arrays of
  -- structs, each level with a scalar of its own beside the array.
  local DEEP = [[
    local structs = require "ebpfdsl.structs"
    local L, v = structs.define("s0", { { "x", "u32" } }), { x = 7 }
    for i = 1, 31 do
      L = structs.define("s" .. i, { { "a", L, 1 }, { "b", "u8" } })
      v = { a = { v }, b = i }
    end
    local d = L:decode(L:encode(v))
    for i = 31, 1, -1 do
      assert(d.b == i, "level " .. i)
      d = d.a[1]
    end
    assert(d.x == 7)
    -- an unknown key at the bottom is still named, with its whole path
    local bottom = v
    for _ = 1, 31 do bottom = bottom.a[1] end
    bottom.y = 1
    local ok, err = pcall(L.encode, L, v)
    assert(not ok and err:find("unknown field '" .. ("a[0]."):rep(31) .. "y' (struct s0 has x)", 1, true), err)
  ]]

  it("encode and decode round-trip, and name an unknown key at the bottom", function()
    assert(load(DEEP))()
  end)

  -- Encoding counted a level for each array as well as each struct, and
  -- wrote past its per-level counts from 17 such levels on.
  env.it("encode stays inside its per-level counts (AddressSanitizer)", "asan", function()
    local ok, out = asan.run(DEEP .. '\nprint("deep ok")')
    assert(ok and out:find("deep ok", 1, true), out)
  end)
end)
