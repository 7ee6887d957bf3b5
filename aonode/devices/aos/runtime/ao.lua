-- ao: the global `ao` table (ao.id, ao.env, ao.authorities, ao.send/spawn/assign, ao.isTrusted ...).
--
-- The host (lua@5.3a) merges ao.event/ao.resolve/ao.set into this same table after the module ran, so
-- the table is created once here and never replaced.
--
-- ao.send(msg) / ao.spawn(module, msg) build an outgoing message as AOS does: tags Data-Protocol=ao,
-- Variant=ao.TN.1, Type=Message (Process for a spawn, plus From-Process, From-Module and Module),
-- Reference=<counter>; then every other field of msg (except Target, Data, Anchor, Tags, From) as a
-- tag, in sorted name order; then msg.Tags (a list of {name, value} in order, and/or a table
-- name -> value in sorted order). Tag values that are numbers or booleans become strings, tables become JSON,
-- functions are left out. A table Data is JSON-encoded and tagged Content-Type=application/json.
-- Anchor is the counter, zero-padded to 32 digits.

local json = require("json")
local utils = require(".utils")

local type, pairs, ipairs, tostring, assert, error, select = type, pairs, ipairs, tostring, assert, error,
  select
local sort, tremove = table.sort, table.remove
local format = string.format

local ao = ao
if type(ao) ~= "table" then
  ao = {}
  _ENV.ao = ao
end

ao._version = "0.0.6"
ao.id = ao.id or ""
ao._module = ao._module or ""
ao.authorities = ao.authorities or {}
ao.reference = ao.reference or 0
ao.outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }
ao.env = ao.env or { Process = { Id = "", Owner = "", Tags = {}, TagArray = {} }, Module = { Id = "", Tags = {}, TagArray = {} } }
ao.nonExtractableTags = {
  "Data-Protocol", "Variant", "From-Process", "From-Module", "Type",
  "From", "Owner", "Anchor", "Target", "Data", "Tags", "Read-Only",
}
ao.nonForwardableTags = {
  "Data-Protocol", "Variant", "From-Process", "From-Module", "Type",
  "From", "Owner", "Anchor", "Target", "Tags", "TagArray", "Hash-Chain",
  "Timestamp", "Nonce", "Epoch", "Signature", "Forwarded-By",
  "Pushed-For", "Read-Only", "Cron", "Block-Height", "Reference", "Id",
  "Reply-To",
}

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

local SEND_SKIP = set_of({ "Target", "Data", "Anchor", "Tags", "From" })

--- A deep copy of a value (tables copied, with their metatables; cycles preserved).
function ao.clone(obj, seen)
  if type(obj) ~= "table" then
    return obj
  end
  if seen and seen[obj] then
    return seen[obj]
  end
  local s = seen or {}
  local res = {}
  s[obj] = res
  for k, v in pairs(obj) do
    res[ao.clone(k, s)] = ao.clone(v, s)
  end
  return setmetatable(res, getmetatable(obj))
end

--- A copy of msg without the fields that must not be forwarded (and without functions).
function ao.sanitize(msg)
  local skip = set_of(ao.nonForwardableTags)
  local out = {}
  for k, v in pairs(msg) do
    if not skip[k] and type(v) ~= "function" then
      out[k] = ao.clone(v)
    end
  end
  return out
end

local function tag_value(v)
  local t = type(v)
  if t == "string" then
    return v
  elseif t == "number" or t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    return json.encode(v)
  end
  return nil
end

--- Names (strings) and their tag values from `t`, the names sorted (a host whose pairs is ordered
--- already gives them sorted; then no sort is needed).
local function named_values(t, skip)
  local names, values, n, in_order = {}, {}, 0, true
  for k, v in pairs(t) do
    if type(k) == "string" and not (skip and skip[k]) then
      local value = tag_value(v)
      if value ~= nil then
        n = n + 1
        names[n] = k
        values[k] = value
        if in_order and n > 1 and names[n - 1] > k then
          in_order = false
        end
      end
    end
  end
  if not in_order then
    sort(names)
  end
  return names, values, n
end

local function collect_tags(tags, msg)
  local m = #tags
  local names, values, n = named_values(msg, SEND_SKIP)
  for i = 1, n do
    local k = names[i]
    m = m + 1
    tags[m] = { name = k, value = values[k] }
  end
  local extra = msg.Tags
  if type(extra) == "table" then
    -- A list of {name, value} (kept in order), then any name -> value entries (sorted).
    for _, o in ipairs(extra) do
      if type(o) ~= "table" or type(o.name) ~= "string" then
        error("Tags must be a list of {name = ..., value = ...} or a table name -> value", 3)
      end
      local value = tag_value(o.value)
      if value ~= nil then
        m = m + 1
        tags[m] = { name = o.name, value = value }
      end
    end
    local extra_names, extra_values, en = named_values(extra, nil)
    for i = 1, en do
      local k = extra_names[i]
      m = m + 1
      tags[m] = { name = k, value = extra_values[k] }
    end
  end
  return tags
end

local function has_tag(tags, name)
  local lname = name:lower()
  for _, o in ipairs(tags) do
    if o.name:lower() == lname then
      return true
    end
  end
  return false
end

local function data_of(msg, default)
  local data = msg.Data
  if data == nil then
    return default, false
  end
  if type(data) == "table" then
    return json.encode(data), true
  end
  return tostring(data), false
end

local function next_reference()
  ao.reference = ao.reference + 1
  return tostring(ao.reference)
end

--- Queue a message in the outbox; returns it with onReply(...) and receive(...) attached.
function ao.send(msg)
  assert(type(msg) == "table", "msg should be a table")
  local ref = next_reference()
  local data, is_json = data_of(msg, "")
  local tags = {
    { name = "Data-Protocol", value = "ao" },
    { name = "Variant", value = "ao.TN.1" },
    { name = "Type", value = "Message" },
    { name = "Reference", value = ref },
  }
  collect_tags(tags, msg)
  if is_json and not has_tag(tags, "Content-Type") then
    tags[#tags + 1] = { name = "Content-Type", value = "application/json" }
  end
  local target = msg.Target
  if target ~= nil and type(target) ~= "string" then
    target = tostring(target)
  end
  local message = { Target = target or "", Data = data, Anchor = format("%032d", ao.reference), Tags = tags }
  local box = ao.outbox.Messages
  box[#box + 1] = message

  local result = { Target = message.Target, Data = data, Anchor = message.Anchor, Tags = tags }
  result.onReply = function(...)
    local from, resolver
    if select("#", ...) == 2 then
      from, resolver = ...
    else
      from, resolver = message.Target, ...
    end
    Handlers.once({ From = from, ["X-Reference"] = ref }, resolver)
  end
  result.receive = function(...)
    local from = message.Target
    if select("#", ...) == 1 then
      from = ...
    end
    return Handlers.receive({ From = from, ["X-Reference"] = ref })
  end
  return result
end

--- Queue a spawn of a new process running `module` (an ID); returns it with onReply/receive.
function ao.spawn(module, msg)
  assert(type(module) == "string", "Module source id is required!")
  assert(type(msg) == "table", "Message must be a table.")
  local ref = next_reference()
  local data, is_json = data_of(msg, "NODATA")
  local tags = {
    { name = "Data-Protocol", value = "ao" },
    { name = "Variant", value = "ao.TN.1" },
    { name = "Type", value = "Process" },
    { name = "From-Process", value = ao.id },
    { name = "From-Module", value = ao._module },
    { name = "Module", value = module },
    { name = "Reference", value = ref },
  }
  collect_tags(tags, msg)
  if is_json and not has_tag(tags, "Content-Type") then
    tags[#tags + 1] = { name = "Content-Type", value = "application/json" }
  end
  local spawn = { Target = "", Data = data, Anchor = format("%032d", ao.reference), Tags = tags }
  local box = ao.outbox.Spawns
  box[#box + 1] = spawn

  local result = { Target = "", Data = data, Anchor = spawn.Anchor, Tags = tags }
  local pattern = { Action = "Spawned", From = ao.id, ["Reference"] = ref }
  result.onReply = function(callback)
    Handlers.once(pattern, callback)
  end
  result.receive = function()
    return Handlers.receive(pattern)
  end
  return result
end

--- Queue an assignment: {Processes = {id, ...}, Message = id}.
function ao.assign(assignment)
  assert(type(assignment) == "table", "assignment should be a table")
  assert(type(assignment.Processes) == "table", "Processes should be a table")
  assert(type(assignment.Message) == "string", "Message should be a string")
  local processes = {}
  for i, p in ipairs(assignment.Processes) do
    assert(type(p) == "string", "Processes should be a list of process IDs")
    processes[i] = p
  end
  local box = ao.outbox.Assignments
  box[#box + 1] = { Processes = processes, Message = assignment.Message }
end

--- Whether a message may run handlers: it must be signed; a message its signer sent for itself
--- (From == Owner) is trusted; a message relayed for a process (From-Process, so From ~= Owner) is
--- trusted only when its From or its Owner (the relay) is one of ao.authorities. No authorities:
--- no relayed message is trusted (fail closed).
function ao.isTrusted(msg)
  local owner, from = msg.Owner, msg.From
  if type(owner) ~= "string" or owner == "" then
    return false
  end
  if from == owner then
    return true
  end
  for _, authority in ipairs(ao.authorities) do
    if from == authority or owner == authority then
      return true
    end
  end
  return false
end

-- Assignments (AOS 2's assignment module): a message whose Target is not this process was assigned to it
-- by someone (a scheduler's assignment keeps the message's own Target). The process takes it only when it
-- matches one of ao.assignables (MatchSpecs, as Handlers take them; none by default), so a message a
-- wallet signed for another process cannot be replayed into this one.
ao.assignables = ao.assignables or {}

local function index_by_name(list, name)
  for i, o in ipairs(list) do
    if o.name == name then
      return i
    end
  end
  return nil
end

--- ao.addAssignable(spec) or ao.addAssignable(name, spec): add a MatchSpec (a named one is replaced).
function ao.addAssignable(...)
  local name, spec
  if select("#", ...) == 1 then
    spec = select(1, ...)
  else
    name, spec = ...
    assert(type(name) == "string", "MatchSpec name MUST be a string")
  end
  local i = name and index_by_name(ao.assignables, name) or nil
  if i ~= nil then
    ao.assignables[i].pattern = spec
  else
    ao.assignables[#ao.assignables + 1] = { pattern = spec, name = name }
  end
end

--- ao.removeAssignable(name or index): remove a MatchSpec; nothing when there is no such one.
function ao.removeAssignable(name)
  local i
  if type(name) == "string" then
    i = index_by_name(ao.assignables, name)
  else
    assert(type(name) == "number", "index MUST be a number")
    i = name
  end
  if i == nil or i <= 0 or i > #ao.assignables then
    return
  end
  tremove(ao.assignables, i)
end

--- Whether msg was assigned to this process rather than sent to it.
function ao.isAssignment(msg)
  return msg.Target ~= ao.id
end

--- Whether msg matches one of ao.assignables (none: no assignment is taken).
function ao.isAssignable(msg)
  for _, assignable in pairs(ao.assignables) do
    if utils.matchesSpec(msg, assignable.pattern) then
      return true
    end
  end
  return false
end

function ao.clearOutbox()
  ao.outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }
end

return ao
