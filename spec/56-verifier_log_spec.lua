-- SPDX-License-Identifier: MIT
-- The verifier's refusals in the program's own terms: three deliberately
-- wrong programs (an uninitialized register, a stack write out of bounds
-- after a label, a map value used without its null check), each refused by
-- the kernel with a message naming the instruction by index and label, in
-- our disassembly, followed by the verifier's reason. The index is checked
-- against the kernel's own log, the text against our disassembler.
local env = require "support.env"

local ebpf = require "ebpfdsl"
local d = ebpf.dsl
local programs = ebpf.programs

-- The line our disassembler prints for slot `idx` of a program.
local function line_of(list, idx)
  local bytes, labels = d.assemble(list)
  for l in d.dump(list):gmatch("[^\n]+") do
    local n, text = l:match("^%s*(%d+): (.*)$")
    if tonumber(n) == idx then return text, bytes, labels end
  end
  error("no instruction at " .. idx)
end

-- The last instruction the verifier printed: "12: (79) ..."
local function kernel_index(log)
  local idx
  for n in ("\n" .. log):gmatch("\n(%d+): %(%x%x%)") do idx = tonumber(n) end
  return idx
end

local function slot_of(labels, name)
  for slot, n in pairs(labels) do if n == name then return slot end end
end

-- Loads `prog` as socket filter `name`, which the kernel must refuse (EACCES)
-- at the instruction `past` slots after `label` (0: the one it marks), and
-- checks the message names it so, shows it, and ends in `reason`; returns
-- the message.
local function assert_refused_at(name, prog, label, past, reason)
  local p, msg, err, log = programs.load { type = "socket_filter", name = name, insns = prog }
  assert.is_nil(p)
  assert.equal(13, err)
  local _, _, labels = line_of(prog, 0)
  local idx = slot_of(labels, label) + past
  assert.equal(idx, kernel_index(log))
  assert.equal(("load of socket_filter '%s' refused: Permission denied: insn %d (%s label '%s'): %s: %s")
    :format(name, idx, past == 0 and "at" or "after", label, (line_of(prog, idx)), reason), msg)
  return msg
end

describe("a refused program's message", function()
  env.it("names an uninitialized register read at its label", "bpf", function()
    local prog = {
      d.mov("r0", 0),
      d.ldx("w", "r3", "r1", 0),
      d.jeq("r3", 0, "out"),
      d.mov("r2", 1),
      d.label("out"),
      d.add("r0", "r2"), -- r2 is unset when the jump is taken
      d.exit(),
    }
    assert_refused_at("uninit", prog, "out", 0, "R2 !read_ok")
  end)

  env.it("names an out-of-bounds stack write after a label", "bpf", function()
    local prog = {
      d.mov("r0", 0),
      d.ja("body"),
      d.label("body"),
      d.mov("r1", 7),
      d.stx("dw", "fp", -8, "r1"),
      d.stx("dw", "fp", -520, "r1"), -- the stack is 512 bytes
      d.exit(),
    }
    local msg = assert_refused_at("stack_oob", prog, "body", 2, "invalid write to stack R10 off=-520 size=8")
    assert.matches("%*%(u64 %*%)%(r10 %- 0x208%) = r1", msg) -- our syntax, not the kernel's "(r10 -520)"
  end)

  env.it("names a map value used without its null check", "bpf", function()
    local map = assert(ebpf.maps.create { type = "hash", key_size = 4, value_size = 8, max_entries = 8 })
    local prog = {
      d.st("w", "fp", -4, 0),
      d.ld_map_fd("r1", map),
      d.mov("r2", "fp"),
      d.add("r2", -4),
      d.call("map_lookup_elem"),
      d.label("found"),
      d.ldx("dw", "r0", "r0", 0), -- r0 may be NULL here
      d.exit(),
    }
    assert_refused_at("no_null_check", prog, "found", 0, "R0 invalid mem access 'map_value_or_null'")
  end)

  env.it("shows a failing jump with the name of its target", "bpf", function()
    local prog = {
      d.mov("r0", 0),
      d.jeq("r5", 0, "done"), -- r5 is never set
      d.mov("r0", 1),
      d.label("done"),
      d.exit(),
    }
    local _, msg = programs.load { type = "socket_filter", insns = prog }
    assert.equal("load of socket_filter '' refused: Permission denied: insn 1: if r5 == 0x0 goto +0x1 <done>: " ..
      "R5 !read_ok", msg)
  end)

  env.it("uses the checks that run before the walk too", "bpf", function()
    local prog = { d.mov("r0", 0), d.exit(), d.label("dead"), d.mov("r0", 1), d.exit() }
    local p, msg, err = programs.load { type = "socket_filter", insns = prog }
    assert.is_nil(p)
    assert.equal(22, err)
    assert.equal("load of socket_filter '' refused: Invalid argument: insn 2 (at label 'dead'): r0 = 0x1: " ..
      "unreachable insn 2", msg)
  end)
end)

describe("a refused program's log", function()
  env.it("comes in our disassembly with labels, and as the kernel wrote it", "bpf", function()
    local prog = { d.mov("r0", 0), d.ldx("w", "r3", "r1", 0), d.jeq("r3", 0, "out"), d.mov("r2", 1),
                   d.label("out"), d.add("r0", "r2"), d.exit() }
    local _, _, _, log, raw = programs.load { type = "socket_filter", insns = prog }
    local bytes, labels = d.assemble(prog)
    assert.equal(log, programs.annotate(raw, bytes, labels))
    -- every instruction line the kernel wrote is there, in our syntax
    local kernel, ours = {}, {}
    for n in raw:gmatch("\n(%d+): %(%x%x%)") do kernel[#kernel + 1] = tonumber(n) end
    for n, text in log:gmatch("\n(%d+): %(%x%x%) ([^;\n]-)%s*[;\n]") do
      ours[#ours + 1] = tonumber(n)
      assert.equal((line_of(prog, tonumber(n))), text)
    end
    assert.same(kernel, ours)
    assert.matches("\nout:\n" .. slot_of(labels, "out") .. ": %(0f%) r0 %+= r2\n", log)
    assert.matches("\nR2 !read_ok\n", log)
    assert.matches("(r1 +0)", raw, 1, true) -- the kernel's own syntax stays in the raw log
  end)
end)

describe("programs.explain", function()
  -- logs written the way the kernel writes them
  local bytes, labels = d.assemble {
    d.mov("r0", 0), d.label("top"), d.ldx("dw", "r2", "r1", 8), d.jne("r2", 0, "top"), d.exit(),
  }

  it("quotes the last instruction the verifier printed and its last lines", function()
    local log = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\n1: (79) r2 = *(u64 *)(r1 +8)\n" ..
      "R1 type=ctx expected=fp\ninvalid bpf_context access off=8 size=8\n" ..
      "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"
    local msg, idx = programs.explain(log, bytes, labels)
    assert.equal(1, idx)
    assert.equal("insn 1 (at label 'top'): r2 = *(u64 *)(r1 + 0x8): R1 type=ctx expected=fp; " ..
      "invalid bpf_context access off=8 size=8", msg)
  end)

  it("places an instruction after the nearest label and names jump targets", function()
    local msg, idx = programs.explain("2: (55) if r2 != 0x0 goto pc-2\nsome reason\n", bytes, labels)
    assert.equal(2, idx)
    assert.equal("insn 2 (after label 'top'): if r2 != 0x0 goto -0x2 <top>: some reason", msg)
  end)

  it("finds the instruction a check names when none was printed", function()
    local msg, idx = programs.explain("back-edge from insn 2 to 1\nprocessed 0 insns\n", bytes, labels)
    assert.equal(2, idx)
    assert.equal("insn 2 (after label 'top'): if r2 != 0x0 goto -0x2 <top>: back-edge from insn 2 to 1", msg)
  end)

  it("says so when the log has no reason", function()
    assert.equal("(the verifier gave no reason)", (programs.explain("processed 0 insns\n", bytes)))
    assert.equal("(the verifier gave no reason)", (programs.explain("", bytes)))
  end)

  it("keeps the index when it is past the program", function()
    local msg, idx = programs.explain("9: (95) exit\nR0 !read_ok\n", bytes)
    assert.equal(9, idx)
    assert.equal("insn 9: R0 !read_ok", msg)
  end)
end)

describe("a refusal whose log outgrows the buffer", function()
  env.it("is verified once per retry, with the log asked for each time", { "bpf", "strace" }, function()
    -- too long a program: refused with a log of a few MB, far past the
    -- first 64 KiB buffer; strace sees every BPF_PROG_LOAD it costs
    local script = require("support.child").script([[
local e = require "ebpfdsl"
local t = {}
for i = 1, 30000 do t[i] = e.dsl.mov("r1", i) end
t[#t + 1] = e.dsl.exit()
local p, _, errno, log, raw = e.programs.load { type = "socket_filter", name = "spec56retry", insns = t }
io.stderr:write(("RESULT %s %d %d %d\n"):format(tostring(p), errno, #log, #raw))
]])
    local trace = os.tmpname()
    os.execute(("strace -f -s 0 -e trace=bpf -o %s lua5.4 %s 2>%s.err"):format(trace, script, trace))
    local levels, sizes = {}, {}
    for line in io.lines(trace) do
      if line:find("BPF_PROG_LOAD", 1, true) and line:find('prog_name="spec56retry"', 1, true) then
        levels[#levels + 1] = tonumber(line:match("log_level=(%d+)"))
        sizes[#sizes + 1] = tonumber(line:match("log_size=(%d+)"))
      end
    end
    local result = io.open(trace .. ".err"):read("a")
    os.remove(script); os.remove(trace); os.remove(trace .. ".err")
    local errno, log_len, raw_len = result:match("RESULT nil (%d+) (%d+) (%d+)")
    assert.equal("13", errno, result)
    assert.is_true(tonumber(raw_len) > 65536) -- the whole log came back, after retries
    assert.is_true(tonumber(log_len) > 0)
    assert.is_true(#levels >= 3)
    -- the first load asks for no log (the program might be accepted); from
    -- then on every load asks for one, each with a larger buffer
    assert.equal(0, levels[1])
    for i = 2, #levels do
      assert.equal(1, levels[i], "load " .. i .. " of " .. #levels .. " asked for no log")
      if i > 2 then assert.is_true(sizes[i] > sizes[i - 1]) end
    end
  end)
end)

-- The growth is the C library's (ebpfdsl_prog__load with log_alloc): a C
-- embedder gets the whole log, as programs.load does, with no loop of its own.
local C_GROWN_LOG = [[
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ebpfdsl.h"

/* grown BYTES-FILE: loads the socket filter in the file with a log the
 * load grows, then prints the fd's sign, the errno and the log. */
int main(int argc, char **argv)
{
	static struct bpf_insn insns[40000];
	char *log = NULL;
	struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o), .name = "spec56grown", .log_alloc = &log };
	FILE *f = fopen(argv[argc - 1], "rb");
	size_t cnt = fread(insns, sizeof(*insns), 40000, f);
	int fd = ebpfdsl_prog__load(BPF_PROG_TYPE_SOCKET_FILTER, insns, cnt, &o);
	printf("%s %d\n%s", fd < 0 ? "refused" : "loaded", fd < 0 ? -fd : 0, log ? log : "(no log)");
	free(log);
	return 0;
}
]]

describe("a C embedder's log", function()
  env.it("grows inside ebpfdsl_prog__load into the log programs.load gives", { "bpf", "gcc" }, function()
    local dir = env.tmpdir()
    local grown = require("support.capi").build(dir, "grown", C_GROWN_LOG)
    -- refused (too long a program), with a log of a few MB: far past the
    -- first 64 KiB
    local t = {}
    for i = 1, 30000 do t[i] = d.mov("r1", i) end
    t[#t + 1] = d.exit()
    require("support.files").write(dir .. "/prog.bin", (d.assemble(t)))
    local out = env.run(("%s %s/prog.bin"):format(grown, dir))
    env.run("rm -rf " .. dir)
    local _, _, errno, _, raw = programs.load { type = "socket_filter", name = "spec56grown", insns = t }
    local status, log = out:match("^(%S+ %d+)\n(.*)$")
    assert.equal("refused " .. errno, status)
    assert.is_true(#log > 64 * 1024, #log .. " bytes")
    -- the same log but for the time the verifier took
    local function timeless(s) return (s:gsub("verification time %d+ usec", "")) end
    assert.equal(timeless(raw), timeless(log))
  end)
end)
