--[[
codec.lua: messages into Lua tables, results out of them, and the per-slot driver.

Python crosses into Lua once per slot (through sandbox.py's LuaVM.call, which lifts the memory cap
while lupa pushes the arguments; every entry point here first calls `tighten` to put it back):
run_slot receives the assignment's fields and the message as
flat arguments (ID, target, anchor, data, committer, algorithm, then name/value pairs of the tags),
builds `req` and `req.body` here, calls the module's compute(base, req, opts) through the
sandbox's call_user, and returns the slot's result as one flat list of strings, numbers and
booleans, which Python reads without calling back into Lua. Everything here is host code: it
reads process tables with rawget/rawlen and the sandbox's sorted key order, so no process code
(metamethods) runs outside the budget and the output does not depend on hash order.

A message table: tags as lower-case keys (a repeated tag becomes a list, in order), data, target
and anchor (omitted when empty), id, commitments ({[id] = {committer, alg, commitment-device}} when
signed), and original-tags, the tags as {name, value} in their original case and order.

The flat result: output data, prompt, print; then for the outbox and the spawns a count and, per
message, target, anchor, data, tag count and name/value pairs; then the assignments: a count and,
per assignment, a process count, the processes and the message. Tables turned into text (data,
tag values) are canonical JSON: keys sorted, lists for keys 1..n, [] for an empty table.
--]]

local sb, set_cap = ...
local collectgarbage = collectgarbage

-- The memory cap for the call that begins (sandbox.py: LuaVM.tighten); a full collection first when
-- the state is near its limit.
local function tighten()
  if not set_cap(false) then
    collectgarbage("collect")
    set_cap(true)
  end
end

local type, rawget, rawset, rawlen, select, error, tonumber = type, rawget, rawset, rawlen, select, error, tonumber
local raw_pcall, raw_load = pcall, load
local sfmt, sbyte, slower, sgsub, smatch = string.format, string.byte, string.lower, string.gsub, string.match
local sgmatch, sfind = string.gmatch, string.find
local tsort, tunpack, tconcat = table.sort, table.unpack, table.concat
local mtype, tointeger, huge = math.type, math.tointeger, math.huge

local E, call_user, begin, limit_state = sb.env, sb.call_user, sb.begin, sb.limit_state
local sorted_keys, num_text, plain_text, take_prints = sb.sorted_keys, sb.num_text, sb.plain_text, sb.take_prints

local MAX_NODES = 1000000     -- tables visited when encoding one result (shared structure counts each time)
local MAX_VALUES = 500000     -- values in one flat result
local MAX_DEPTH = 100

local base = nil  -- the process state between slots
-- The module's compute as it was when the module loaded: the entry point of every slot. Process
-- code may reassign the global (HyperBEAM looks it up per call), but that does not change the entry
-- point, so no message can brick a process by replacing or removing it.
local entry = nil

---------------------------------------------------------------------------------------------------
-- Messages in

local function build_message(id, target, anchor, data, committer, alg, ...)
  local msg, orig = {}, {}
  local multi = nil
  local n = select("#", ...)
  local tags = {...}
  for i = 1, n, 2 do
    local name, value = tags[i], tags[i + 1]
    orig[#orig + 1] = {name = name, value = value}
    local key = slower(name)
    local cur = msg[key]
    if cur == nil then
      msg[key] = value
    elseif multi ~= nil and multi[key] then
      cur[#cur + 1] = value
    else
      msg[key] = {cur, value}
      if multi == nil then multi = {} end
      multi[key] = true
    end
  end
  msg.data = data
  if target ~= "" then msg.target = target else msg.target = nil end
  if anchor ~= "" then msg.anchor = anchor else msg.anchor = nil end
  msg.id = id
  local commitments = {}
  if committer ~= nil then
    commitments[id] = {committer = committer, alg = alg, ["commitment-device"] = "ans104@1.0"}
  end
  msg.commitments = commitments
  msg["original-tags"] = orig
  return msg
end

---------------------------------------------------------------------------------------------------
-- Canonical JSON

local jbuf, jn, jnodes, jfloat, jlenient = nil, 0, 0, "%.14g", false
local jstack = {}

local ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
                 ["\r"] = "\\r", ["\t"] = "\\t"}
local function escape_char(c)
  return ESCAPES[c] or sfmt("\\u%04x", sbyte(c))
end

local function jfail(msg)
  error(msg, 0)
end

local function emit(s)
  jn = jn + 1
  jbuf[jn] = s
end

local jvalue

local function jkey(k)
  local tk = type(k)
  if tk == "string" then return k end
  if tk == "number" then
    if mtype(k) == "integer" then return sfmt("%d", k) end
    return num_text(k)
  end
  return nil
end

local function jtable(t, depth)
  if depth > MAX_DEPTH then jfail("a table is nested more than " .. MAX_DEPTH .. " levels deep") end
  if jstack[t] then
    if jlenient then emit("null") return end
    jfail("a table contains itself")
  end
  jnodes = jnodes + 1
  if jnodes > MAX_NODES then jfail("the result is too large (more than " .. MAX_NODES .. " tables)") end
  jstack[t] = true
  local keys, n = sorted_keys(t)
  local is_list = true
  for i = 1, n do
    if keys[i] ~= i then is_list = false break end
  end
  if is_list then
    emit("[")
    for i = 1, n do
      if i > 1 then emit(",") end
      jvalue(rawget(t, i), depth + 1)
    end
    emit("]")
  else
    local names, values, m, mixed = {}, {}, 0, false
    for i = 1, n do
      local k = keys[i]
      local v = rawget(t, k)
      if type(v) ~= "function" then  -- functions are left out of objects, as AOS's json does
        local name = jkey(k)
        if name == nil then
          if not jlenient then jfail("a " .. type(k) .. " key cannot be encoded in JSON") end
        else
          if type(k) ~= "string" then mixed = true end
          m = m + 1
          names[m] = name
          values[name] = v
        end
      end
    end
    if mixed then  -- numbers came first; order every key as text, and catch 1 next to "1"
      tsort(names)
      for i = 2, m do
        if names[i] == names[i - 1] then jfail("the key '" .. names[i] .. "' appears twice") end
      end
    end
    emit("{")
    for i = 1, m do
      if i > 1 then emit(",") end
      local name = names[i]
      emit('"' .. sgsub(name, '[%z\1-\31\\"]', escape_char) .. '":')
      jvalue(values[name], depth + 1)
    end
    emit("}")
  end
  jstack[t] = nil
end

jvalue = function(v, depth)
  local tv = type(v)
  if tv == "string" then
    emit('"' .. sgsub(v, '[%z\1-\31\\"]', escape_char) .. '"')
  elseif tv == "number" then
    if mtype(v) == "integer" then
      emit(sfmt("%d", v))
    elseif v ~= v or v == huge or v == -huge then
      if not jlenient then jfail("cannot encode " .. num_text(v) .. " in JSON") end
      emit("null")
    else
      emit(sfmt(jfloat, v))
    end
  elseif tv == "boolean" then
    emit(v and "true" or "false")
  elseif tv == "table" then
    jtable(v, depth)
  elseif tv == "nil" or jlenient then
    emit("null")
  else
    jfail("cannot encode a " .. tv .. " value in JSON")
  end
end

local function json(v, lenient)
  jbuf, jn, jnodes, jlenient = {}, 0, 0, lenient
  jfloat = lenient and "%.17g" or "%.14g"
  jstack = {}
  jvalue(v, 0)
  local s = tconcat(jbuf, "", 1, jn)
  jbuf = nil
  return s
end

---------------------------------------------------------------------------------------------------
-- Results out

local out, on = nil, 0

local function put(v)
  on = on + 1
  if on > MAX_VALUES then error("the result is too large (more than " .. MAX_VALUES .. " values)", 0) end
  out[on] = v
end

-- A value as text: strings as they are, numbers as Lua prints them, tables as canonical JSON.
local function text_of(v, what)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then
    if mtype(v) == "integer" then return sfmt("%d", v) end
    return num_text(v)
  end
  if tv == "boolean" then return v and "true" or "false" end
  if tv == "table" then
    local ok, s = raw_pcall(json, v, false)
    if not ok then error(what .. ": " .. s, 0) end
    return s
  end
  error(what .. ": cannot convert a " .. tv .. " value to text", 0)
end

local function string_field(v, what)
  if v == nil then return "" end
  if type(v) == "string" then return v end
  if type(v) == "number" then return text_of(v, what) end
  error(what .. " must be a string, not a " .. type(v), 0)
end

-- The entries of an outbox-like table in order: integer keys and decimal-string keys ("1", "2"...)
-- by value, then other string keys by bytes.
local function entry_less(a, b)
  local na, nb = a[2], b[2]
  if na ~= nil and nb ~= nil then
    if na ~= nb then return na < nb end
    return type(a[1]) == "number" and type(b[1]) == "string"
  end
  if na ~= nil then return true end
  if nb ~= nil then return false end
  return a[1] < b[1]
end

local function entries(coll, what)
  if coll == nil then return {}, 0 end
  if type(coll) ~= "table" then error(what .. " must be a table, not a " .. type(coll), 0) end
  local keys, n = sorted_keys(coll)
  local list = {}
  for i = 1, n do
    local k = keys[i]
    local tk = type(k)
    local num
    if tk == "number" then num = k
    elseif tk == "string" then
      if smatch(k, "^%d+$") then num = tonumber(k) end
    else
      error(what .. " has a key of type " .. tk, 0)
    end
    list[i] = {k, num}
  end
  tsort(list, entry_less)
  return list, n
end

local SPECIAL = {target = true, anchor = true, data = true, tags = true}

-- The pairs of a message's `tags`: a list of {name, value} kept in order, or a map sorted by name.
-- Returns how many pairs it wrote.
local function put_tags(tags, what)
  if type(tags) ~= "table" then error(what .. ".tags must be a table, not a " .. type(tags), 0) end
  local keys, n = sorted_keys(tags)
  local is_seq = true
  for i = 1, n do
    if keys[i] ~= i then is_seq = false break end
  end
  if is_seq then
    for i = 1, n do
      local tag = rawget(tags, i)
      local where = what .. ".tags[" .. i .. "]"
      if type(tag) ~= "table" then error(where .. " must be a {name, value} table", 0) end
      local name = rawget(tag, "name")
      if name == nil then name = rawget(tag, "Name") end
      local value = rawget(tag, "value")
      if value == nil then value = rawget(tag, "Value") end
      if name == nil then error(where .. " has no name", 0) end
      put(string_field(name, where .. ".name"))
      put(value == nil and "" or text_of(value, where .. ".value"))
    end
    return n
  end
  local count = 0
  for i = 1, n do
    local k = keys[i]
    local v = rawget(tags, k)
    if type(v) ~= "function" then
      put(text_of(k, what .. ".tags key"))
      put(text_of(v, what .. ".tags." .. plain_text(k)))
      count = count + 1
    end
  end
  return count
end

-- target, anchor, data, tag count, tag pairs. Keys other than target/anchor/data/tags (in any case)
-- become tags after the `tags` list, sorted by key.
local function put_message(m, what)
  if type(m) ~= "table" then error(what .. " must be a message table, not a " .. type(m), 0) end
  local keys, n = sorted_keys(m)
  local special, exact = {}, {}
  local extra, ne = {}, 0
  for i = 1, n do
    local k = keys[i]
    local tk = type(k)
    local name
    if tk == "string" then name = k
    elseif tk == "number" then name = text_of(k, what)
    else error(what .. " has a key of type " .. tk, 0) end
    local lk = slower(name)
    if SPECIAL[lk] then
      if name == lk or not exact[lk] then  -- 'data' wins over 'Data'
        special[lk] = rawget(m, k)
        if name == lk then exact[lk] = true end
      end
    elseif type(rawget(m, k)) ~= "function" then  -- functions (e.g. onReply) are not tags
      ne = ne + 1
      extra[ne] = k
    end
  end
  put(string_field(special.target, what .. ".target"))
  put(string_field(special.anchor, what .. ".anchor"))
  local data = special.data
  put(data == nil and "" or text_of(data, what .. ".data"))
  local count_at = on + 1
  put(0)
  local count = 0
  if special.tags ~= nil then count = put_tags(special.tags, what) end
  for i = 1, ne do
    local k = extra[i]
    put(text_of(k, what))
    put(text_of(rawget(m, k), what .. "." .. plain_text(k)))
  end
  out[count_at] = count + ne
end

local function put_messages(coll, what)
  local list, n = entries(coll, what)
  put(n)
  for i = 1, n do
    local k = list[i][1]
    put_message(rawget(coll, k), what .. "[" .. plain_text(k) .. "]")
  end
end

local function put_assignments(coll)
  local list, n = entries(coll, "results.assignments")
  put(n)
  for i = 1, n do
    local k = list[i][1]
    local a = rawget(coll, k)
    local what = "results.assignments[" .. plain_text(k) .. "]"
    if type(a) ~= "table" then error(what .. " must be a table", 0) end
    local procs = rawget(a, "processes")
    if procs == nil then procs = rawget(a, "Processes") end
    local msg = rawget(a, "message")
    if msg == nil then msg = rawget(a, "Message") end
    if type(procs) == "string" then
      put(1)
      put(procs)
    elseif type(procs) == "table" then
      local m = rawlen(procs)
      put(m)
      for j = 1, m do put(string_field(rawget(procs, j), what .. ".processes[" .. j .. "]")) end
    else
      error(what .. ".processes must be a list of process IDs", 0)
    end
    if msg == nil then error(what .. " has no message", 0) end
    put(string_field(msg, what .. ".message"))
  end
end

local function flatten(results)
  out, on = {}, 0
  if results ~= nil and type(results) ~= "table" then
    error("results must be a table, not a " .. type(results), 0)
  end
  local output = results and rawget(results, "output")
  if output == nil then
    local printed = take_prints()
    put(printed or "")
    put("")
    put(printed ~= nil)
  elseif type(output) == "table" then
    local d, p = rawget(output, "data"), rawget(output, "prompt")
    put(d == nil and "" or text_of(d, "results.output.data"))
    put(p == nil and "" or text_of(p, "results.output.prompt"))
    put(rawget(output, "print") and true or false)
  else
    put(text_of(output, "results.output"))
    put("")
    put(false)
  end
  put_messages(results and rawget(results, "outbox"), "results.outbox")
  put_messages(results and rawget(results, "spawns"), "results.spawns")
  put_assignments(results and rawget(results, "assignments"))
  local flat, n = out, on
  out, on = nil, 0
  return flat, n
end

---------------------------------------------------------------------------------------------------
-- The driver

local function fail(prev, slot, msg)
  rawset(prev, "at-slot", slot)
  base = prev
  return false, msg
end

local function status_detail(v)
  if type(v) == "string" then return ": " .. v end
  if type(v) == "table" then
    local b = rawget(v, "body")
    if type(b) == "string" then return ": " .. b end
  end
  return ""
end

-- One slot. Returns true, <flat result> or false, <error text>.
local function run_slot(budget, slot, ts, height, block_ts, chain, process, epoch, ...)
  tighten()
  begin(budget, block_ts, slot)
  local req = {
    slot = slot, timestamp = ts, ["block-height"] = height, ["block-timestamp"] = block_ts,
    ["hash-chain"] = chain, process = process, epoch = epoch, path = "compute",
    body = build_message(...),
  }
  local prev = base
  rawset(prev, "results", {})
  local ok, a, b = call_user(entry, prev, req, {})
  local poisoned, trip = limit_state()
  if poisoned then return fail(prev, slot, trip) end
  if not ok then return fail(prev, slot, a) end
  local new = a
  if type(a) == "string" then  -- compute may return status, state
    if a ~= "ok" then return fail(prev, slot, "compute returned status '" .. a .. "'" .. status_detail(b)) end
    new = b
  end
  if type(new) ~= "table" then
    return fail(prev, slot, "compute must return the state table, not " .. type(new))
  end
  rawset(new, "at-slot", slot)
  local okf, flat, n = raw_pcall(flatten, rawget(new, "results"))
  if not okf then
    out, on = nil, 0
    return fail(prev, slot, "invalid results: " .. plain_text(flat))
  end
  base = new
  return true, tunpack(flat, 1, n)
end

---------------------------------------------------------------------------------------------------
-- The `ao` library (process code calls these, under its budget)

-- ao.event([group,] event): HyperBEAM logs it; here it has no effect.
local function ao_event()
end

local function split_path(path)
  local segs, n = {}, 0
  for seg in sgmatch(path, "[^/]+") do
    n = n + 1
    segs[n] = seg
  end
  return segs, n
end

-- ao.resolve(table, "a/b/c") reads a path in a table and returns "ok", value. Other forms (device
-- paths, singleton messages) need HyperBEAM's resolver, which this node does not have: they
-- return "error", "not supported".
local function ao_resolve(msg, path, ...)
  if type(msg) == "table" and type(path) == "string" and select("#", ...) == 0 then
    local segs, n = split_path(path)
    local v = msg
    for i = 1, n do
      if type(v) ~= "table" then return "error", "not_found" end
      local nv = v[segs[i]]
      if nv == nil then
        local num = tointeger(tonumber(segs[i]))
        if num ~= nil then nv = v[num] end
      end
      v = nv
    end
    if v == nil then return "error", "not_found" end
    return "ok", v
  end
  return "error", "not supported"
end

local function set_path(t, key, value)
  if type(key) == "string" and sfind(key, "/", 1, true) then
    local segs, n = split_path(key)
    for i = 1, n - 1 do
      local nxt = t[segs[i]]
      if type(nxt) ~= "table" then
        nxt = {}
        t[segs[i]] = nxt
      end
      t = nxt
    end
    key = segs[n]
    if key == nil then return end
  end
  t[key] = value
end

-- ao.set(base, key, value) or ao.set(base, {key = value, ...}): sets (a/b/c paths create tables)
-- in place and returns base.
local function ao_set(t, key, value)
  if type(t) ~= "table" then error("bad argument #1 to 'set' (table expected, got " .. type(t) .. ")", 2) end
  if type(key) == "table" and value == nil then
    local keys, n = sorted_keys(key)
    for i = 1, n do set_path(t, keys[i], rawget(key, keys[i])) end
  else
    set_path(t, key, value)
  end
  return t
end

local function install_ao()
  local ao = rawget(E, "ao")
  if type(ao) ~= "table" then
    ao = {}
    rawset(E, "ao", ao)
  end
  rawset(ao, "event", ao_event)
  rawset(ao, "resolve", ao_resolve)
  rawset(ao, "set", ao_set)
end

-- Load the module (once per VM) and build the initial state from the Process message.
local function run_init(budget, block_ts, code, ...)
  tighten()
  begin(budget, block_ts, -1)
  install_ao()  -- top-level module code may already use ao.*
  local fn, err = raw_load(code, "=module", "t", E)
  if fn == nil then return false, "the module does not compile: " .. plain_text(err) end
  local ok, e = call_user(fn)
  local poisoned, trip = limit_state()
  if poisoned then return false, "the module failed to load: " .. trip end
  if not ok then return false, "the module failed to load: " .. e end
  take_prints()  -- what the module printed while loading is not part of any slot's output
  install_ao()  -- merged into whatever 'ao' the module left
  entry = rawget(E, "compute")
  if type(entry) ~= "function" then
    return false, "the module defines no global function 'compute'"
  end
  local process = build_message(...)
  local fields = build_message(...)  -- the same tags again, not shared with base.process
  local state = {}
  local orig = fields["original-tags"]
  for i = 1, #orig do
    local key = slower(orig[i].name)
    state[key] = fields[key]
  end
  state.process = process
  state["at-slot"] = -1
  state.results = {}
  base = state
  return true
end

---------------------------------------------------------------------------------------------------
-- State access for the stack and patch devices

local function lookup(...)
  local v = base
  for i = 1, select("#", ...) do
    if type(v) ~= "table" then return nil end
    local seg = select(i, ...)
    local nv = rawget(v, seg)
    if nv == nil then
      local num = tointeger(tonumber(seg))
      if num ~= nil then nv = rawget(v, num) end
    end
    v = nv
  end
  return v
end

-- The value at a path as lenient JSON (functions and cycles become null), or nil if absent.
local function export(...)
  tighten()
  local v = lookup(...)
  if v == nil then return nil end
  return json(v, true)
end

local function is_list(t)
  local keys, n = sorted_keys(t)
  if n == 0 then return false end
  for i = 1, n do
    if keys[i] ~= i then return false end
  end
  return true
end

local function merge(dst, src)
  local keys, n = sorted_keys(src)
  for i = 1, n do
    local k = keys[i]
    local v = rawget(src, k)
    local cur = rawget(dst, k)
    if type(v) == "table" and type(cur) == "table" and not is_list(v) then
      merge(cur, v)
    else
      rawset(dst, k, v)
    end
  end
end

local function patch(t)
  tighten()
  merge(base, t)
  return true
end

return {run_slot = run_slot, run_init = run_init, export = export, patch = patch, json = json}
