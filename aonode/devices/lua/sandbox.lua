--[[
sandbox.lua: the environment process code runs in, its limits, and the order of keys.

Runs once per VM in lupa's raw global table (trusted), before any process code. It captures the
stock functions it needs as locals, then builds the environment table E that module code gets as
_ENV. E holds only what the Python side lists (sandbox.py: copied names) plus the host versions
defined here and in stdlib.lua, so nothing of the raw globals (io, os, debug, package, python...)
is reachable. The host chunks are loaded without debug information, so errors raised by the C
functions they call carry no host line numbers; those raised here use level 2 (the caller's).

Limits. `call_user` runs process code with a count hook on the main thread (and, through
coroutine.create/wrap, on every coroutine): every STEP (1,000) instructions the hook takes STEP
from the slot's budget and, once a second, asks the host whether the wall-clock deadline passed.
STEP is small because one VM instruction can take milliseconds (`..`, `==`, `<` on long strings,
which no budget can charge): a loop of `s .. "x"` on a 32 MiB string ran 67 s against a 1 s wall
clock with the hook every 10,000 instructions, even looking at the clock at every call.
Once either trips, the VM is "poisoned": the hook is re-installed to run at every instruction and
raises again, so pcall loops cannot swallow it; it never raises inside the host's own frames
(HOST), which clear it. pcall, xpcall and coroutine.resume are capped in nesting depth, keeping
recursion away from the C-stack limit where Lua stops calling hooks; xpcall message handlers are
not run once poisoned (an error raised by a hook runs the handler with hooks disabled). `charge`
takes work done by C functions (string.rep, patterns, load, ...) from the budget. (Any count hook
costs C Lua 25-30% on tight loops: with a hook set, the VM calls into the debug machinery at
every instruction.)

Determinism. C Lua seeds its string hash from addresses and time, so next/pairs visit keys in
sorted order instead: numbers ascending, then strings (byte order), then false, true, then other
objects by an id this VM assigns (creation order for coroutines and tables given a metatable,
first use otherwise). tostring names objects by their id; print is captured; collectgarbage
reports nothing; __gc and __mode are dropped from metatables (finalizers and weak tables depend on
GC timing). stdlib.lua does the rest (sort, random, time, string functions).
The budget itself must be deterministic, so host code that runs on behalf of process code (under
the hook) executes a number of instructions that does not depend on C Lua's traversal order:
sorted_keys sorts with C's comparator only, never a Lua one (a Lua comparator would run as often
as the pivots make it), and the hook's own path depends only on its call count.

Left to the platform (documented limits): transcendental math (sin, exp, log, x^y) comes from the
C library; "..", string.format and tostring of NaN print C's spelling ("-nan" on x86), except
tostring/print here, which say "nan"; a __mode set on a metatable after setmetatable is not
removed; objects that never got an id and look exactly alike, used as keys of one table, keep
C Lua's order among themselves; work done by the VM's own instructions on long strings (s .. x
copies s; == and < compare bytes) is bounded by the wall clock, not by the budget, which counts
instructions: the hook, every STEP instructions, looks at the clock.
--]]

local deadline_passed, STEP, MAX_DEPTH, MAX_SOURCE = ...
local COPY = {select(5, ...)}

local type, rawget, rawset, rawnext = type, rawget, rawset, next
local select, error, raw_tostring, ipairs = select, error, tostring, ipairs
local raw_pcall, raw_xpcall = pcall, xpcall
local raw_setmetatable = setmetatable
local sethook, getinfo, raw_getmetatable = debug.sethook, debug.getinfo, debug.getmetatable
local raw_time = os.time
local last_second = 0
-- Stock functions are called as fields (G.load(...)) where their argument errors should name them.
local G, STR = _G, string
local sfmt = string.format
local tconcat, tsort, tunpack, tpack = table.concat, table.sort, table.unpack, table.pack
local cocreate, coresume = coroutine.create, coroutine.resume

local LIMIT_MSG = "instruction limit exceeded"
local WALL_MSG = "wall-clock limit exceeded"
local NEST_MSG = "nesting limit exceeded (pcall/xpcall/coroutine.resume deeper than " .. MAX_DEPTH .. ")"

---------------------------------------------------------------------------------------------------
-- Limits

local budget, remaining = 0, 0
local poisoned, trip = false, nil
local depth = 0
local HOST = {}  -- functions in which the hooks never raise (they clear the hook themselves)
local normal_hook, poison_hook

local function poison(reason)
  if not poisoned then
    poisoned = true
    trip = reason
  end
end

-- C Lua decrements the count for every instruction, the hook's own included, so a hook whose path
-- varied would shift the budget. This one restarts the count (sethook) as its last step: every call
-- stands for exactly STEP instructions of process code, whatever the hook did. So it may look at the
-- time: it asks the host about the deadline whenever the second (C's time(), a cheap call) changed.
normal_hook = function()
  remaining = remaining - STEP
  local now = raw_time()
  if now ~= last_second then
    last_second = now
    if deadline_passed() then poison(WALL_MSG) end
  end
  if remaining > 0 and not poisoned then
    sethook(normal_hook, "", STEP)
    return
  end
  poison(LIMIT_MSG)
  if HOST[getinfo(2, "f").func] then return end
  sethook(poison_hook, "", 1)
  error(trip, 0)
end

poison_hook = function()
  if not poisoned then  -- left on a coroutine by an earlier slot
    sethook(normal_hook, "", STEP)
    return
  end
  if HOST[getinfo(2, "f").func] then return end
  error(trip, 0)
end

local function check_wall()
  if deadline_passed() then poison(WALL_MSG) end
  if poisoned then
    sethook(poison_hook, "", 1)
    error(trip, 0)
  end
end

-- Take n from the budget for work done by a C function (deterministic, unlike the clock).
local function charge(n)
  remaining = remaining - n
  if remaining <= 0 or poisoned then
    poison(LIMIT_MSG)
    sethook(poison_hook, "", 1)
    error(trip, 0)
  end
end

local function hook_thread(co)
  if poisoned then sethook(co, poison_hook, "", 1) else sethook(co, normal_hook, "", STEP) end
end

---------------------------------------------------------------------------------------------------
-- Object ids and the total order of keys

local ids = raw_setmetatable({}, {__mode = "k"})  -- host table: weak keys are harmless here
local id_count = 0
local function objid(o)
  local i = ids[o]
  if i == nil then
    id_count = id_count + 1
    i = id_count
    ids[o] = i
  end
  return i
end

local function num_text(v)
  if v ~= v then return "nan" end  -- x86 prints "-nan" for the default NaN, ARM "nan"
  return raw_tostring(v)
end

-- A description of an object that never got an id, used to order such keys among themselves.
local function fingerprint(o, v)
  local to = type(o)
  local parts = {to}
  if to == "table" then
    local prim, n, total = {}, 0, 0
    local k, x = rawnext(o)
    while k ~= nil do
      total = total + 1
      local tk, tx = type(k), type(x)
      if (tk == "string" or tk == "number" or tk == "boolean") and (tx == "string" or tx == "number" or tx == "boolean") then
        n = n + 1
        prim[n] = sfmt("%s:%q=%s:%q", tk, tk == "number" and num_text(k) or raw_tostring(k), tx,
                       tx == "number" and num_text(x) or raw_tostring(x))
      end
      k, x = rawnext(o, k)
    end
    tsort(prim)
    parts[2] = raw_tostring(total)
    parts[3] = tconcat(prim, ",")
  elseif to == "function" then
    local info = getinfo(o, "Su")
    parts[2] = info.source .. ":" .. info.linedefined .. ":" .. info.nups .. ":" .. info.nparams
  end
  local tv = type(v)
  if tv == "string" or tv == "number" or tv == "boolean" then parts[#parts + 1] = tv .. ":" .. raw_tostring(v) end
  return tconcat(parts, "|")
end

-- Give ids to objects used as keys that have none, in an order that does not depend on addresses:
-- by fingerprint. Objects with equal fingerprints keep the order of C Lua's traversal among
-- themselves (the one case left to chance: never-observed, indistinguishable objects as keys).
local function assign_ids(t, objs, no)
  local fps, nf, groups = {}, 0, {}
  for i = 1, no do
    local k = objs[i]
    if ids[k] == nil then
      local f = fingerprint(k, rawget(t, k))
      local g = groups[f]
      if g == nil then
        nf = nf + 1
        fps[nf] = f
        groups[f] = {k}
      else
        g[#g + 1] = k
      end
    end
  end
  if nf > 1 then tsort(fps) end
  for i = 1, nf do
    local g = groups[fps[i]]
    for j = 1, #g do objid(g[j]) end
  end
end

-- The keys of t in the total order (an array and its length).
-- This runs under the instruction hook on behalf of process code, so the number of instructions
-- it executes must not depend on C Lua's traversal order: each key costs what its type costs,
-- and every sort is C's table.sort without a Lua comparator (numbers, strings or integer ids;
-- all distinct, so the result is unique whatever the pivots).
local function sorted_keys(t)
  local keys, nn = {}, 0
  local strs, ns = {}, 0
  local objs, no = nil, 0
  local has_false, has_true = false, false
  local k = rawnext(t)
  while k ~= nil do
    local tk = type(k)
    if tk == "number" then
      nn = nn + 1
      keys[nn] = k
    elseif tk == "string" then
      ns = ns + 1
      strs[ns] = k
    elseif k == false then
      has_false = true
    elseif k == true then
      has_true = true
    else
      if objs == nil then objs = {} end
      no = no + 1
      objs[no] = k
    end
    k = rawnext(t, k)
  end
  if nn > 1 then tsort(keys) end
  if ns > 1 then tsort(strs) end
  local n = nn
  for i = 1, ns do
    n = n + 1
    keys[n] = strs[i]
  end
  if has_false then n = n + 1; keys[n] = false end
  if has_true then n = n + 1; keys[n] = true end
  if no > 0 then
    assign_ids(t, objs, no)
    local order, by_id = {}, {}
    for i = 1, no do
      local o = objs[i]
      local id = ids[o]
      order[i] = id
      by_id[id] = o
    end
    if no > 1 then tsort(order) end
    for i = 1, no do
      n = n + 1
      keys[n] = by_id[order[i]]
    end
  end
  return keys, n
end

---------------------------------------------------------------------------------------------------
-- Deterministic next / pairs

local next_cache = nil  -- t -> {keys, n, pos}; built by next(t, k), dropped when a traversal restarts

local function det_next(t, k)
  if type(t) ~= "table" then error("bad argument #1 to 'next' (table expected, got " .. type(t) .. ")", 2) end
  local c
  if k == nil then
    if rawnext(t) == nil then return nil end
    local keys, n = sorted_keys(t)
    charge(n)
    c = {keys = keys, n = n, pos = nil}
    if next_cache == nil then next_cache = {} end
    next_cache[t] = c  -- a traversal (re)starts here
    return keys[1], rawget(t, keys[1])
  end
  c = next_cache and next_cache[t]
  local pos = nil
  if c ~= nil then
    if c.pos == nil then
      local map = {}
      for i = 1, c.n do map[c.keys[i]] = i end
      c.pos = map
    end
    pos = c.pos[k]
  end
  if pos == nil then
    local keys, n = sorted_keys(t)
    charge(n)
    local map = {}
    for i = 1, n do map[keys[i]] = i end
    c = {keys = keys, n = n, pos = map}
    if next_cache == nil then next_cache = {} end
    next_cache[t] = c
    pos = map[k]
    if pos == nil then error("invalid key to 'next'", 2) end
  end
  local keys = c.keys
  for i = pos + 1, c.n do
    local key = keys[i]
    local v = rawget(t, key)
    if v ~= nil then return key, v end
  end
  return nil
end

local function det_pairs(t)
  local mt = raw_getmetatable(t)
  if mt ~= nil then
    local pm = rawget(mt, "__pairs")
    if pm ~= nil then
      local f, s, c = pm(t)
      return f, s, c
    end
  end
  if type(t) ~= "table" then error("bad argument #1 to 'pairs' (table expected, got " .. type(t) .. ")", 2) end
  local keys, n = sorted_keys(t)
  charge(n)
  local i = 0
  -- A snapshot of the keys: keys removed during the loop are skipped, keys added are not visited.
  return function(_, k)
    if k ~= nil and keys[i] ~= k then return det_next(t, k) end  -- called out of step: be stateless
    while i < n do
      i = i + 1
      local key = keys[i]
      local v = rawget(t, key)
      if v ~= nil then return key, v end
    end
    return nil
  end, t, nil
end

---------------------------------------------------------------------------------------------------
-- tostring, print

local function det_tostring(v)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then return num_text(v) end
  if tv == "nil" or tv == "boolean" then return raw_tostring(v) end
  local mt = raw_getmetatable(v)
  if mt ~= nil then
    local f = rawget(mt, "__tostring")
    if f ~= nil then
      local s = f(v)
      if type(s) ~= "string" then error("'__tostring' must return a string", 2) end
      return s
    end
    local name = rawget(mt, "__name")
    if type(name) == "string" then tv = name end
  end
  return sfmt("%s: 0x%08x", tv, objid(v))
end

-- The same without calling metamethods (the host uses it on values it must not run code for).
local function plain_text(v)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then return num_text(v) end
  if tv == "nil" or tv == "boolean" then return raw_tostring(v) end
  return sfmt("%s: 0x%08x", tv, objid(v))
end

local prints, nprints = nil, 0

local function det_print(...)
  local n = select("#", ...)
  local parts = {...}
  for i = 1, n do parts[i] = det_tostring(parts[i]) end
  if prints == nil then prints = {} end
  nprints = nprints + 1
  prints[nprints] = tconcat(parts, "\t", 1, n)
end

local function take_prints()
  if nprints == 0 then return nil end
  local text = tconcat(prints, "\n", 1, nprints)
  prints, nprints = nil, 0
  return text
end

---------------------------------------------------------------------------------------------------
-- pcall, xpcall, coroutines

local function leave(...)
  if depth > 0 then depth = depth - 1 end
  return ...
end

local function det_pcall(f, ...)
  if depth >= MAX_DEPTH then return false, NEST_MSG end
  depth = depth + 1
  return leave(raw_pcall(f, ...))
end

local function det_xpcall(f, h, ...)
  if type(h) ~= "function" then
    error("bad argument #2 to 'xpcall' (function expected, got " .. type(h) .. ")", 2)
  end
  if depth >= MAX_DEPTH then return false, NEST_MSG end
  depth = depth + 1
  -- After a limit trips, the handler would run with hooks off (the error comes from a hook).
  return leave(raw_xpcall(f, function(e)
    if poisoned then return e end
    return h(e)
  end, ...))
end

local function det_create(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'create' (function expected, got " .. type(f) .. ")", 2)
  end
  local co = cocreate(f)
  hook_thread(co)
  objid(co)
  return co
end

local function resumed(d0, ...)
  depth = d0  -- a coroutine that yielded inside pcalls holds no C stack of ours any more
  return ...
end

local function det_resume(co, ...)
  if depth >= MAX_DEPTH then return false, NEST_MSG end
  local d0 = depth
  depth = d0 + 1
  return resumed(d0, coresume(co, ...))
end

local function det_wrap(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'wrap' (function expected, got " .. type(f) .. ")", 2)
  end
  local co = det_create(f)
  return function(...)
    local r = tpack(det_resume(co, ...))
    if r[1] then return tunpack(r, 2, r.n) end
    local e = r[2]
    if type(e) == "string" then error(e, 2) end  -- as 5.3's auxwrap: prefix the caller's position
    error(e, 0)
  end
end

---------------------------------------------------------------------------------------------------
-- The environment

local E = {}

for _, name in ipairs(COPY) do  -- stock functions that are safe and deterministic as they are
  local lib, fn = STR.match(name, "^([%w_]+)%.([%w_]+)$")
  if lib then
    local src = G[lib]
    if type(src) == "table" and src[fn] ~= nil then
      if E[lib] == nil then E[lib] = {} end
      E[lib][fn] = src[fn]
    end
  elseif G[name] ~= nil then
    E[name] = G[name]
  end
end
for _, lib in ipairs({"string", "table", "math", "os", "coroutine", "utf8"}) do
  if E[lib] == nil then E[lib] = {} end
end

E._G = E
E._VERSION = G._VERSION
E.next = det_next
E.pairs = det_pairs
E.tostring = function(...)
  if select("#", ...) == 0 then error("bad argument #1 to 'tostring' (value expected)", 2) end
  return det_tostring((...))
end
E.print = det_print
E.pcall = det_pcall
E.xpcall = det_xpcall

E.setmetatable = function(t, mt)
  if type(mt) == "table" then
    if rawget(mt, "__gc") ~= nil then rawset(mt, "__gc", nil) end
    if rawget(mt, "__mode") ~= nil then rawset(mt, "__mode", nil) end
  end
  local r = G.setmetatable(t, mt)
  objid(t)
  return r
end

local GC_RESULT = {collect = 0, step = 0, count = 0, isrunning = true, stop = 0, restart = 0,
                   setpause = 0, setstepmul = 0}
E.collectgarbage = function(opt)
  if opt == nil then opt = "collect" end
  local r = type(opt) == "string" and GC_RESULT[opt]
  if r == nil or r == false then
    error("bad argument #1 to 'collectgarbage' (invalid option '" .. plain_text(opt) .. "')", 2)
  end
  return r
end

E.load = function(chunk, chunkname, mode, ...)
  local env
  if select("#", ...) > 0 then env = ... else env = E end
  local tc = type(chunk)
  if tc == "string" then
    if #chunk > MAX_SOURCE then return nil, "chunk too large (limit " .. MAX_SOURCE .. " bytes)" end
    if #chunk >= 16 then charge(#chunk // 16) end
  elseif tc == "function" then
    local reader, total = chunk, 0
    chunk = function()
      local piece = reader()
      if type(piece) == "string" then
        total = total + #piece
        if total > MAX_SOURCE then error("chunk too large (limit " .. MAX_SOURCE .. " bytes)", 0) end
        if #piece >= 16 then charge(#piece // 16) end
      end
      return piece
    end
  end
  return G.load(chunk, chunkname, "t", env)  -- text only: binary chunks can break the VM
end

local loaded, preload = {}, {}
local package = {loaded = loaded, preload = preload, path = "", cpath = "",
                 config = "/\n;\n?\n!\n-\n"}
E.package = package
E.require = function(name)
  if type(name) == "number" then name = raw_tostring(name) end
  if type(name) ~= "string" then
    error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
  end
  local v = loaded[name]
  if v ~= nil then return v end
  local pre = rawget(package, "preload")
  local loader = type(pre) == "table" and pre[name] or nil
  if loader == nil then
    error("module '" .. name .. "' not found:\n\tno field package.preload['" .. name .. "']"
          .. "\n\t(modules come from package.loaded or package.preload; there are no files)", 2)
  end
  local r = loader(name, ":preload:")
  if r ~= nil then loaded[name] = r end
  if loaded[name] == nil then loaded[name] = true end
  return loaded[name]
end

E.coroutine.create = det_create
E.coroutine.resume = det_resume
E.coroutine.wrap = det_wrap

for _, lib in ipairs({"string", "table", "math", "os", "coroutine", "utf8"}) do loaded[lib] = E[lib] end
loaded._G = E
loaded.package = package

-- Strings index E.string (not the stock library, which has string.dump); getmetatable("") gives
-- a read-only stand-in so process code cannot change how every string behaves.
local string_mt = raw_getmetatable("")
string_mt.__index = E.string
string_mt.__metatable = raw_setmetatable({}, {
  __index = {__index = E.string},
  __newindex = function() error("the string metatable is read-only", 2) end,
  __metatable = false,
})

---------------------------------------------------------------------------------------------------
-- Running process code

local function error_object_text(e)
  local mt = raw_getmetatable(e)
  if mt ~= nil and rawget(mt, "__tostring") ~= nil then return det_tostring(e) end
  return "(error object is a " .. type(e) .. " value)"
end

local function finish_user(ok, ...)
  if not ok then
    local e = ...
    local te = type(e)
    if te == "string" then
      sethook()
      return false, e
    elseif te == "number" then
      sethook()
      return false, num_text(e)
    end
    -- __tostring runs under what is left of the budget: the hook is still installed
    local ok2, s = raw_pcall(error_object_text, e)
    sethook()
    if ok2 and type(s) == "string" then return false, s end
    return false, "(error object is a " .. te .. " value)"
  end
  sethook()
  return true, ...
end

-- Run fn(...) as process code; returns true, results... or false, error text. Clears the hook.
local function call_user(fn, ...)
  sethook(normal_hook, "", STEP)
  return finish_user(raw_pcall(fn, ...))
end
HOST[finish_user] = true
HOST[call_user] = true

local on_begin = {}  -- per-slot resets of other host chunks (stdlib.lua: block time, RNG)

-- Prepare the limits and per-slot state for one slot (or the module load, slot -1).
local function begin(b, bt, slot)
  budget, remaining = b, b
  poisoned, trip = false, nil
  depth = 0
  next_cache = nil
  prints, nprints = nil, 0
  for i = 1, #on_begin do on_begin[i](bt, slot) end
end

local function used()
  return budget - remaining
end

local function limit_state()
  return poisoned, trip
end

return {
  env = E,
  call_user = call_user,
  begin = begin,
  limit_state = limit_state,
  sorted_keys = sorted_keys,
  num_text = num_text,
  plain_text = plain_text,
  take_prints = take_prints,
  clear_hook = sethook,
  stock_string = STR,
  -- for stdlib.lua
  charge = charge,
  check_wall = check_wall,
  tostring = det_tostring,
  used = used,
  on_begin = function(fn) on_begin[#on_begin + 1] = fn end,
}
