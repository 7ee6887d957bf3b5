-- process: the AOS programming model on lua@5.3a's ABI. Defines the globals AOS users know and the
-- global `compute(base, req, opts)` the host calls once per slot.
--
-- Per slot: build an AOS-style `msg` from req.body (tags with their original case from the signed
-- commitment's original-tags), check trust (ao.isTrusted; an untrusted message changes nothing and
-- outputs "Message is not trusted."), refuse an assignment (Target not this process) that matches no
-- ao.assignables as AOS 2 does ("Assignment is not trusted by this process!"), then run the Owner's Eval (Action=Eval from the Owner) if it is
-- one, else Handlers.evaluate, with the Inbox for unhandled messages (neither Eval nor the Inbox is in
-- Handlers.list). The Inbox keeps at most InboxLimit messages and InboxMaxBytes bytes of them.
-- print() output is collected and becomes Output.data (lines joined by "\n"). A handler error (or an
-- Eval that does not compile) raises a Lua error from compute: the slot's result is an error whose text
-- is the printed lines, a blank line, then the error message; the outbox of a failed slot is dropped.
-- The Process message itself (slot 0) initialises the process (Owner, ao.id, ao.env, authorities) and
-- runs its Data as Eval code when it is tagged On-Boot=Data; it does not reach the handlers or Inbox.
--
-- Nothing user code can reach decides whether the Owner's Eval runs: the runtime's own path uses only
-- values captured when this file loaded (library functions, the handlers/ao/json/stringify modules and
-- their functions), never the globals of the same names, which user code may replace or remove
-- (print, Handlers, table, string, coroutine, ao.clearOutbox ...). The device itself keeps calling the
-- `compute` defined here whatever the global becomes. The Owner's Eval is run before the handlers and
-- before ao.isTrusted (a process that redefines isTrusted cannot refuse its Owner); what decides is
-- `Owner`, which Eval may set on purpose (`Owner = ""` renounces ownership, as in AOS).

local json = require("json")
local stringify = require(".stringify")
local utils = require(".utils")
local ao = require(".ao")

local type, pairs, ipairs, tostring, tonumber, select, error, pcall, load = type, pairs, ipairs,
  tostring, tonumber, select, error, pcall, load
local rawget, rawset, next = rawget, rawset, next
local concat, remove, sort, pack = table.concat, table.remove, table.sort, table.pack
local lower, upper, gsub, sub, gmatch = string.lower, string.upper, string.gsub, string.sub, string.gmatch
local cocreate, coresume, costatus = coroutine.create, coroutine.resume, coroutine.status
local match, floor, huge = string.match, math.floor, math.huge
local ENV = _ENV
local sbyte = string.byte
local host_os_time = type(os) == "table" and os.time or nil
local normalize = utils.normalize

local chance = require(".chance")
local handlers = require(".handlers")
local evaluate = handlers.evaluate
local display = stringify.display
local RED, GREEN, BLUE, GRAY, RESET = "\27[31m", "\27[32m", "\27[34m", "\27[90m", "\27[0m"
local json_decode, json_encode = json.decode, json.encode
local clear_outbox, is_trusted = ao.clearOutbox, ao.isTrusted
local ao_send, is_assignable = ao.send, ao.isAssignable
Handlers = handlers
Utils = utils
ENV.json = json
Colors = {
  red = "\27[31m", green = "\27[32m", blue = "\27[34m", reset = "\27[0m", gray = "\27[90m",
}
Bell = "\7"
Owner = ""
Name = "aos"
Inbox = {}
--- Most messages kept in Inbox; the oldest are dropped beyond it.
InboxLimit = 10000
--- Most bytes (data, tag names and values) the messages in Inbox may hold; the oldest are dropped
--- beyond it. Set on the first slot to a quarter of the process's Memory-Limit (256 MiB by default),
--- so that messages anyone may send cannot fill the process's memory.
InboxMaxBytes = 64 * 1024 * 1024

local process = { _version = AOS_RUNTIME_VERSION }

local logs = nil -- the current slot's printed lines
local initialized = false
local process_id = nil -- this process's ID, as the Process message gave it (user code cannot change it)

-- A value as AOS's print shows it: strings as they are, tables by stringify (coloured), numbers green,
-- booleans blue, nil red.
local function shown(v)
  local t = type(v)
  if t == "string" or t == "table" then
    return display(v)
  elseif t == "number" then
    return GREEN .. tostring(v) .. RESET
  elseif t == "boolean" then
    return BLUE .. tostring(v) .. RESET
  elseif t == "nil" then
    return RED .. "nil" .. RESET
  end
  return display(v)
end

--- Print values (each as AOS's print shows one, separated by tabs) to the slot's Output.
local function runtime_print(...)
  local n = select("#", ...)
  local line
  if n == 1 then
    line = shown((...))
  else
    local parts = {}
    for i = 1, n do
      parts[i] = shown((select(i, ...)))
    end
    line = concat(parts, "\t")
  end
  if logs then
    logs[#logs + 1] = line
  end
end
print = runtime_print

local prompt_text, prompt_name, prompt_count = nil, nil, nil

-- Read with rawget and checked: user code may have set them to anything (or given _G a metatable).
local function inbox_size()
  local inbox = rawget(ENV, "Inbox")
  if type(inbox) ~= "table" then
    return 0
  end
  return #inbox
end

local function process_name()
  local name = rawget(ENV, "Name")
  if type(name) == "string" then
    return name
  elseif type(name) == "number" then
    return tostring(name)
  end
  return "aos"
end

local function prompt()
  local name, count = process_name(), inbox_size()
  if name ~= prompt_name or count ~= prompt_count then
    prompt_text = GREEN .. name .. GRAY .. "@" .. BLUE .. "aos-" .. process._version .. GRAY .. "[Inbox:"
      .. RED .. tostring(count) .. GRAY .. "]" .. RESET .. "> "
    prompt_name, prompt_count = name, count
  end
  return prompt_text
end
Prompt = prompt

-- The prompt of a result: a user's Prompt() (AOS lets Eval redefine it), else, or if it fails or
-- gives no string, the runtime's.
local function current_prompt()
  local f = rawget(ENV, "Prompt")
  if f ~= prompt and type(f) == "function" then
    local ok, text = pcall(f)
    if ok and type(text) == "string" then
      return text
    end
  end
  return prompt()
end

function Version()
  print("version: " .. process._version)
end

Tab = utils.Tab

local function message_added(text, t)
  return setmetatable(t, { __tostring = function() return text end })
end

--- Send a message (see ao.send); returns a handle with onReply/receive that displays as a note.
function Send(msg)
  if type(msg) == "table" and msg.Target == nil then
    print("WARN: No target specified for message. Data will be stored, but no process will receive it.")
  end
  local result = ao.send(msg)
  return message_added("Message added to outbox", {
    output = "Message added to outbox", onReply = result.onReply, receive = result.receive,
  })
end

--- Spawn(msg) spawns this same module; Spawn(module, msg) spawns `module`.
function Spawn(...)
  local module, spawnMsg
  if select("#", ...) == 1 then
    module, spawnMsg = ao._module, ...
  else
    module, spawnMsg = ...
  end
  local result = ao.spawn(module, spawnMsg or {})
  return message_added("Spawn process request added to outbox", {
    output = "Spawn process request added to outbox", onReply = result.onReply, receive = result.receive,
  })
end

function Assign(assignment)
  ao.assign(assignment)
  print("Assignment added to outbox.")
  return "Assignment added to outbox."
end

function Receive(match)
  return handlers.receive(match)
end

-------------------------------------------------------------------------------
-- messages from the ABI
-------------------------------------------------------------------------------

local FIELDS = {
  data = true, target = true, anchor = true, id = true, commitments = true, body = true,
  ["original-tags"] = true, signature = true, owner = true, path = true, method = true,
}

local function header_case(name)
  return (gsub(name, "(%w)(%w*)", function(first, rest) return upper(first) .. rest end))
end

--- The commitment entry of a message table (the one named by its id, else the first by name).
local function commitment_of(m)
  local c = m.commitments
  if type(c) ~= "table" then
    return nil
  end
  local own = m.id and c[m.id]
  if type(own) == "table" then
    return own
  end
  local names = {}
  for k, v in pairs(c) do
    if type(k) == "string" and type(v) == "table" then
      names[#names + 1] = k
    end
  end
  sort(names)
  for _, k in ipairs(names) do
    if c[k].committer then
      return c[k]
    end
  end
  return names[1] and c[names[1]] or nil
end

local function as_list(v)
  if type(v) == "table" then
    return v
  end
  return { v }
end

--- The message's tags as an ordered list {name, value} with their original case.
local function tag_array(m, commitment)
  local original = commitment and commitment["original-tags"] or m["original-tags"]
  local tags = {}
  if type(original) == "table" then
    for i, o in ipairs(original) do
      local name, value = o.name, o.value
      if type(name) == "string" and type(value) == "string" then
        tags[i] = o
      else
        tags[i] = { name = tostring(name), value = tostring(value) }
      end
    end
    return tags
  end
  -- No original tags: rebuild them from the lower-case keys, header-cased, in sorted order.
  local names = {}
  for k, v in pairs(m) do
    if type(k) == "string" and not FIELDS[k] and type(v) ~= "function" then
      names[#names + 1] = k
    end
  end
  sort(names)
  for _, k in ipairs(names) do
    local v = m[k]
    if type(v) == "table" then
      for _, x in ipairs(v) do
        tags[#tags + 1] = { name = header_case(k), value = tostring(x) }
      end
    else
      tags[#tags + 1] = { name = header_case(k), value = tostring(v) }
    end
  end
  return tags
end

local function first_tag(tags, name)
  local lname = lower(name)
  for _, o in ipairs(tags) do
    if lower(o.name) == lname then
      return o.value
    end
  end
  return nil
end

local function tag_values(tags, name)
  local lname, out = lower(name), {}
  for _, o in ipairs(tags) do
    if lower(o.name) == lname then
      out[#out + 1] = o.value
    end
  end
  return out
end

local function tab(tags)
  local t = {}
  for _, o in ipairs(tags) do
    if t[o.name] == nil then
      t[o.name] = o.value
    end
  end
  return t
end

local NON_EXTRACTABLE = {}
for _, name in ipairs(ao.nonExtractableTags) do
  NON_EXTRACTABLE[name] = true
end

--- One entry per Authority tag, as given: AOS (all three WASM fixtures) does not split a tag's value at
--- commas, so a tag `A,B` trusts neither A nor B. hyper-aos's own `authority` field is a comma list.
local function authority_list(values, comma_list)
  if not comma_list then
    local list = {}
    for i, value in ipairs(values) do
      list[i] = value
    end
    return list
  end
  local list, seen = {}, {}
  for _, value in ipairs(values) do
    for part in gmatch(value, "[^,]+") do
      part = gsub(gsub(part, "^%s+", ""), "%s+$", "")
      if part ~= "" and not seen[part] then
        seen[part] = true
        list[#list + 1] = part
      end
    end
  end
  return list
end

--- Build the msg AOS handlers see from the assignment `req` (message in req.body).
local function first_value(v)
  if type(v) == "table" then
    return v[1]
  end
  return v
end

local function build_msg(req)
  local body = req.body or {}
  local commitment = commitment_of(body)
  local tags = tag_array(body, commitment)
  local msg, by_name = {}, {}
  for i = 1, #tags do
    local o = tags[i]
    local name = o.name
    if by_name[name] == nil then
      local value = o.value
      by_name[name] = value
      if not NON_EXTRACTABLE[name] then
        msg[name] = value
      end
    end
  end
  -- As AOS: every tag is also reachable under its canonical name (data-PROTOCOL -> Data-Protocol),
  -- unless a tag of that exact name exists.
  for i = 1, #tags do
    local name = tags[i].name
    local canonical = normalize(name)
    if canonical ~= name and by_name[canonical] == nil then
      local value = by_name[name]
      by_name[canonical] = value
      if not NON_EXTRACTABLE[canonical] then
        msg[canonical] = value
      end
    end
  end
  local owner = commitment and commitment.committer or nil
  local from_process = first_value(body["from-process"])
  -- Cron-From: a cron task's creator (only a node may set it; aonode/scheduler/relay.py).
  local cron_from = first_value(body["cron-from"])
  msg.Id = body.id
  msg.Owner = owner
  msg.From = from_process or cron_from or owner
  msg.Target = body.target or ao.id
  msg.Anchor = body.anchor
  msg.TagArray = tags
  msg.Tags = by_name
  msg.Timestamp = tonumber(req.timestamp)
  msg["Block-Height"] = tonumber(req["block-height"])
  msg.Nonce = tonumber(req.slot)
  msg.Epoch = tonumber(req.epoch)
  msg["Hash-Chain"] = req["hash-chain"]
  msg.Module = ao._module
  local cron = first_value(body.cron)
  msg.Cron = type(cron) == "string" and lower(cron) == "true"
  local data = body.data or ""
  local content_type = first_value(body["content-type"])
  if type(content_type) == "string" and lower(content_type) == "application/json" and type(data) == "string" then
    local ok, decoded = pcall(json_decode, data)
    if ok and decoded ~= nil then
      data = decoded
    end
  end
  msg.Data = data
  local size = type(body.data) == "string" and #body.data or 0
  for i = 1, #tags do
    local o = tags[i]
    size = size + #tostring(o.name) + #tostring(o.value)
  end
  return msg, size
end

-- Bytes from a Memory-Limit tag: "1073741824", "512-mb", "64kb" (as the node reads it), else nil.
local function parse_size(text)
  if type(text) ~= "string" then
    return nil
  end
  local digits, unit = match(lower(text), "^%s*(%d+)%s*%-?%s*(%a*)%s*$")
  local scale = ({ [""] = 1, b = 1, kb = 1024, mb = 1024 ^ 2, gb = 1024 ^ 3, tb = 1024 ^ 4 })[unit or ""]
  if digits == nil or scale == nil or #digits > 15 then
    return nil
  end
  return floor(tonumber(digits) * scale)
end

local function init_process(base, req)
  local p = base.process or {}
  local commitment = commitment_of(p)
  local tags = tag_array(p, commitment)
  local pid = req.process
  if type(pid) == "table" then
    pid = pid.id
  end
  ao.id = pid or p.id or ""
  process_id = ao.id
  local from_process = p["from-process"]
  if type(from_process) == "table" then
    from_process = from_process[1]
  end
  Owner = from_process or (commitment and commitment.committer) or ""
  Name = first_tag(tags, "Name") or "aos"
  ao._module = first_tag(tags, "Module") or ""
  local authority = tag_values(tags, "Authority")
  if #authority == 0 and p.authority ~= nil then
    ao.authorities = authority_list(as_list(p.authority), true)
  else
    ao.authorities = authority_list(authority, false)
  end
  local memory = parse_size(first_tag(tags, "Memory-Limit"))
  InboxMaxBytes = (memory or 256 * 1024 * 1024) // 4
  ao.env = {
    Process = { Id = ao.id, Owner = Owner, Tags = tab(tags), TagArray = tags },
    Module = { Id = ao._module, Tags = {}, TagArray = {} },
  }
  initialized = true
end

-------------------------------------------------------------------------------
-- handling
-------------------------------------------------------------------------------

-- The bytes of the messages in Inbox, kept as a running total while only the runtime changes it
-- (recounted when user code replaced the table or changed its length).
local inbox_seen, inbox_count, inbox_bytes = nil, 0, 0
local current_msg, current_size = nil, 0

local function msg_bytes(m)
  if type(m) ~= "table" then
    return 0
  end
  if m == current_msg then
    return current_size
  end
  local d = rawget(m, "Data")
  local n = type(d) == "string" and #d or 0
  local tags = rawget(m, "TagArray")
  if type(tags) == "table" then
    for i = 1, #tags do
      local o = tags[i]
      if type(o) == "table" then
        local name, value = rawget(o, "name"), rawget(o, "value")
        n = n + (type(name) == "string" and #name or 0) + (type(value) == "string" and #value or 0)
      end
    end
  end
  return n
end

local function insert_inbox(msg)
  local inbox = rawget(ENV, "Inbox")
  if type(inbox) ~= "table" then  -- replaced by user code: start a new one
    inbox = {}
    rawset(ENV, "Inbox", inbox)
  end
  if inbox ~= inbox_seen or #inbox ~= inbox_count then
    inbox_bytes = 0
    for i = 1, #inbox do
      inbox_bytes = inbox_bytes + msg_bytes(inbox[i])
    end
  end
  inbox[#inbox + 1] = msg
  inbox_bytes = inbox_bytes + msg_bytes(msg)
  local limit = tonumber(rawget(ENV, "InboxLimit")) or 10000
  local max_bytes = tonumber(rawget(ENV, "InboxMaxBytes")) or huge
  local n = #inbox
  local drop = n > limit and n - limit or 0
  local dropped = 0
  for i = 1, drop do
    dropped = dropped + msg_bytes(inbox[i])
  end
  while drop < n and inbox_bytes - dropped > max_bytes do
    drop = drop + 1
    dropped = dropped + msg_bytes(inbox[drop])
  end
  inbox_bytes = inbox_bytes - dropped
  if drop == 1 then
    remove(inbox, 1)
  elseif drop > 0 then
    local kept = {}
    for i = drop + 1, n do
      kept[#kept + 1] = inbox[i]
    end
    inbox = kept
    rawset(ENV, "Inbox", kept)
  end
  inbox_seen, inbox_count = inbox, #inbox
end

local function default_handler(msg)
  insert_inbox(msg)
  local from = msg.From or "unknown"
  if #from > 8 then
    from = sub(from, 1, 3) .. "..." .. sub(from, -3)
  end
  if msg.Action then
    runtime_print("New Message From " .. from .. ": Action = " .. sub(msg.Action, 1, 20))
  else
    local data = msg.Data
    if type(data) == "table" then
      data = json_encode(data)
    end
    runtime_print("New Message From " .. from .. ": Data = " .. sub(tostring(data), 1, 20))
  end
end

--- Run Lua source in the process's environment; the value of `return <code>` (or of the statements)
--- is printed (tables pretty-printed). A compile error is raised.
local function eval_code(code)
  if type(code) ~= "string" then
    code = tostring(code)
  end
  local fn, err = load("return " .. code, "aos", "t", ENV)
  if not fn then
    fn, err = load(code, "aos", "t", ENV)
  end
  if not fn then
    error(err, 0)
  end
  local n_and_values = pack(fn())
  if n_and_values.n > 0 and n_and_values[1] ~= nil then
    runtime_print(n_and_values[1])
  end
end

local function eval_handler(msg)
  eval_code(msg.Data)
end

local function reply_fn(msg)
  return function(replyMsg)
    if type(replyMsg) == "string" then
      replyMsg = { Data = replyMsg }
    end
    replyMsg.Target = msg["Reply-To"] or replyMsg.Target or msg.From
    replyMsg["X-Reference"] = msg["X-Reference"] or msg.Reference
    replyMsg["X-Origin"] = msg["X-Origin"]
    return ao.send(replyMsg)
  end
end

local function forward_fn(msg)
  return function(target, forwardMsg)
    local newMsg = ao.sanitize(msg)
    for k, v in pairs(forwardMsg or {}) do
      newMsg[k] = v
    end
    newMsg.Target = target
    newMsg["Reply-To"] = msg["Reply-To"] or msg.From
    newMsg["X-Reference"] = msg["X-Reference"] or msg.Reference
    newMsg["X-Origin"] = msg["X-Origin"] or msg.From
    return ao.send(newMsg)
  end
end

local function prune_coroutines()
  local cos = rawget(handlers, "coroutines")
  if type(cos) ~= "table" then
    rawset(handlers, "coroutines", {})
    return
  end
  if #cos == 0 then
    return
  end
  local live = {}
  for _, co in ipairs(cos) do
    if type(co) == "thread" and costatus(co) ~= "dead" then
      live[#live + 1] = co
    end
  end
  rawset(handlers, "coroutines", live)
end

local function is_owner_eval(msg)
  local owner = rawget(ENV, "Owner")
  return msg.Action == "Eval" and type(owner) == "string" and owner ~= "" and msg.From == owner
end

-- The Owner's Eval runs here, not through Handlers.evaluate: nothing in the handler list (which user
-- code may have broken: Handlers.list = 5) stands between the Owner and Eval.
local function run_handlers(msg, owner_eval)
  local co = cocreate(function()
    if owner_eval then
      return pcall(eval_handler, msg)
    end
    return pcall(evaluate, msg, ao.env, nil, default_handler)
  end)
  local resumed, status, err = coresume(co)
  prune_coroutines()
  if costatus(co) ~= "dead" then
    local cos = rawget(handlers, "coroutines")
    cos[#cos + 1] = co
  end
  if not resumed then
    return false, status
  end
  if status == false then
    return false, err
  end
  return true
end

-- The slot's error as AOS frames it: for a handler's error, the lines printed so far, then
-- "Error handling message with Action = X" and the error (printed, so they are in the text), then a blank
-- line, "error:" and the error; for an Eval, the printed lines, a blank line, "error:" and the error.
-- (AOS also prints a traceback; the sandbox has no debug library, so there is none.)
local function error_text(err, msg)
  if type(err) ~= "string" then
    local ok, text = pcall(display, err)
    err = ok and type(text) == "string" and text or "(error object is a " .. type(err) .. " value)"
  end
  if err == "not enough memory" or match(err, ": not enough memory$") then
    -- left as it is: the device reports it as "memory limit exceeded" (building more text could fail too)
    return err
  end
  if msg.Action ~= "Eval" then
    local action = msg.Action
    if type(action) == "string" then
      logs[#logs + 1] = RED .. "Error" .. GRAY .. " handling message with Action = " .. action .. RESET
    else
      logs[#logs + 1] = RED .. "Error" .. GRAY .. " handling message " .. RESET
    end
    logs[#logs + 1] = GREEN .. err .. RESET
  end
  return concat(logs, "\n") .. "\n\n" .. RED .. "error:\n" .. RESET .. err
end

local function result(output)
  return {
    Output = output,
    Messages = ao.outbox.Messages,
    Spawns = ao.outbox.Spawns,
    Assignments = ao.outbox.Assignments,
  }
end

-- ao.isAssignable as the process defines it; an error in a redefined one means "not assignable".
local function assignable(msg)
  local f = ao.isAssignable
  if type(f) ~= "function" then
    f = is_assignable
  end
  local ok, yes = pcall(f, msg)
  return ok and yes and true or false
end

-- An assignment: a message whose Target is not this process (a scheduler assigned it here; it keeps the
-- Target its signer gave it). Decided by the runtime from the process ID of the Process message, not by
-- ao.isAssignment or ao.id, which user code can change: only ao.isAssignable (the process's own opt-in)
-- can let an assignment in. As AOS 2 refuses one: a note to its sender and a printed line; nothing runs.
local function is_assignment(msg)
  return msg.Id ~= process_id and msg.Target ~= process_id
end

local function refuse_assignment(msg)
  local from, owner = tostring(msg.From), tostring(msg.Owner)
  if msg.From ~= nil and msg.From ~= process_id then
    ao_send({ Target = msg.From, Data = "Assignment is not trusted by this process!" })
  end
  runtime_print("Assignment is not trusted! From: " .. from .. " - Owner: " .. owner)
  local output = { data = concat(logs, "\n"), prompt = current_prompt(), print = true }
  logs = nil
  return result(output)
end

--- Handle one assignment. Returns {Output, Messages, Spawns, Assignments}, or raises the slot's error.
-- ao.isTrusted as the process defines it; an error in a redefined one means "not trusted".
local function trusted(msg)
  local f = ao.isTrusted
  if type(f) ~= "function" then
    f = is_trusted
  end
  local ok, yes = pcall(f, msg)
  return ok and yes and true or false
end

local function random(...)
  local n = select("#", ...)
  if n == 0 then
    return chance.random()
  elseif n == 1 then
    return chance.integer(1, (...))
  end
  local low, high = ...
  return chance.integer(low, high)
end

-- As AOS: math.random is AOS's Mersenne Twister (.chance), seeded once, from the first message,
-- with tonumber(Block-Height .. sum of the bytes of Owner .. Module .. Id).
local seeded = false
local function seed_random(msg)
  if seeded then
    return
  end
  local text = tostring(msg.Owner or "") .. tostring(msg.Module or "") .. tostring(msg.Id or "")
  local sum = 0
  for i = 1, #text do
    sum = sum + sbyte(text, i)
  end
  local height = msg["Block-Height"]
  local seed = tonumber(tostring(height ~= nil and floor(height) or 0) .. tostring(sum)) or sum
  chance.seed(seed)
  seeded = true
  rawset(ENV, "Seeded", true)
  local math_table = rawget(ENV, "math")
  if type(math_table) == "table" then
    rawset(math_table, "random", random)
  end
end

-- os.time() is the message's Timestamp in milliseconds, as AOS sets it; os.time(table) is the
-- host's (the date's seconds).
local function install_time(msg)
  local os_table = rawget(ENV, "os")
  if type(os_table) ~= "table" then
    return
  end
  local ts = msg.Timestamp
  rawset(os_table, "time", function(t)
    if t ~= nil and host_os_time then
      return host_os_time(t)
    end
    return ts
  end)
end

function process.handle(req, base)
  logs = {}
  clear_outbox()
  if not initialized then
    init_process(base, req)
  end
  local msg, size = build_msg(req)
  current_msg, current_size = msg, size
  seed_random(msg)
  install_time(msg)
  -- The Owner's own signed message needs no other trust (a redefined isTrusted cannot refuse it).
  local owner_eval = is_owner_eval(msg) and msg.Owner == msg.From

  if not owner_eval and not trusted(msg) then
    logs = nil
    return result({ data = "Message is not trusted.", prompt = current_prompt(), print = true })
  end
  -- Before the Owner's Eval: an Eval its Owner signed for another process is not this process's.
  if is_assignment(msg) and not assignable(msg) then
    return refuse_assignment(msg)
  end

  msg.reply = reply_fn(msg)
  msg.forward = forward_fn(msg)

  local ok, err
  if msg.Id ~= nil and msg.Id == ao.id then
    -- The Process message: boot. Its Data is run as Eval code when tagged On-Boot=Data.
    if msg.Tags["On-Boot"] == "Data" and msg.From == rawget(ENV, "Owner") then
      ok, err = pcall(eval_code, msg.Data)
    else
      ok = true
    end
  else
    ok, err = run_handlers(msg, is_owner_eval(msg))
  end
  if not ok then
    local text = error_text(err, msg)
    logs = nil
    clear_outbox()
    error(text, 0)
  end
  local output = { data = concat(logs, "\n"), prompt = current_prompt() }
  if msg.Action ~= "Eval" then
    output.print = true
  end
  logs = nil
  return result(output)
end

-------------------------------------------------------------------------------
-- the lua@5.3a entry point
-------------------------------------------------------------------------------

local function to_abi_message(m)
  return { target = m.Target, data = m.Data, anchor = m.Anchor, tags = m.Tags }
end

--- If the host replaced the global `ao` (rather than merging into it), take its additions (ao.event,
--- ao.resolve, ao.set) into the runtime's table and put that back, so user code and runtime agree.
local function keep_ao()
  local g = rawget(ENV, "ao")
  if g ~= ao then
    if type(g) == "table" then  -- raw traversal: no __pairs of user code on every slot's path
      local k, v = next(g)
      while k ~= nil do
        if rawget(ao, k) == nil then
          rawset(ao, k, v)
        end
        k, v = next(g, k)
      end
    end
    rawset(ENV, "ao", ao)
  end
end

--- lua@5.3a: compute one slot. base.results gets output, outbox ("1".."n"), spawns, assignments.
function compute(base, req, opts)
  keep_ao()
  local r = process.handle(req, base)
  local outbox = {}
  for i, m in ipairs(r.Messages) do
    outbox[tostring(i)] = to_abi_message(m)
  end
  local results = { output = r.Output, outbox = outbox }
  if #r.Spawns > 0 then
    local spawns = {}
    for i, m in ipairs(r.Spawns) do
      spawns[tostring(i)] = to_abi_message(m)
    end
    results.spawns = spawns
  end
  if #r.Assignments > 0 then
    local assignments = {}
    for i, a in ipairs(r.Assignments) do
      assignments[tostring(i)] = { processes = a.Processes, message = a.Message }
    end
    results.assignments = assignments
  end
  base.results = results
  return base
end

return process
