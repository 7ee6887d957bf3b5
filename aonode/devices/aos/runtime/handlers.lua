-- handlers: the global `Handlers`, an ordered list of {name, pattern, handle, maxRuns}, as in AOS.
--
-- evaluate(msg, env) walks the list in order. A pattern's result decides (utils.matchesSpec):
--   true / -1 / "break"     run the handler, then stop;
--   1 / "continue"          run the handler, then go on with the next one;
--   false / 0 / "skip" / nil  do not run it.
-- When no handler ran with "break", a handler named `_default` runs if there is one, else the
-- runtime's default (the Inbox).
-- A handler with maxRuns (once: 1) is removed when it has run that many times. The walk goes over a
-- snapshot of the list, skipping handlers removed meanwhile, so handlers added or prepended by a
-- handler (once, onReply, receive) apply from the next message on and never run twice for one message.
-- A handler's error stops the walk and is raised (the slot's result is an error).
-- receive(pattern) suspends the running handler (a coroutine) until a message matching pattern
-- arrives; that message resumes it (AOS 2's Receive, ao.send(...).receive()).

local handlers = { _version = "0.0.5" }

local utils = require(".utils")
local type, ipairs, pairs, select, assert, error, tostring = type, ipairs, pairs, select, assert, error,
  tostring
local insert, remove = table.insert, table.remove
local coroutine = coroutine

handlers.utils = require(".handlers-utils")
handlers.list = {}
handlers.coroutines = {}
handlers.onceNonce = 0
local generation = 0

local function changed()
  generation = generation + 1
end

local function findIndexByProp(array, prop, value)
  for index, object in ipairs(array) do
    if object[prop] == value then
      return index
    end
  end
  return nil
end

local function assertAddArgs(name, pattern, handle, maxRuns)
  assert(
    type(name) == "string"
      and (type(pattern) == "function" or type(pattern) == "table" or type(pattern) == "string")
      and (type(handle) == "function" or type(handle) == "table")
      and (maxRuns == nil or maxRuns == "inf" or math.type(maxRuns) == "integer"),
    "Invalid arguments given. Expected: \n"
      .. "\tname : string, "
      .. "\tpattern : Action : string | MsgMatch : table,\n"
      .. "\t\tfunction(msg: Message) : {-1 = break, 0 = skip, 1 = continue},\n"
      .. "\thandle(msg : Message) : void) | Resolver,\n"
      .. '\tMaxRuns? : number | "inf" | nil'
  )
end

local function parseArgs(...)
  local n = select("#", ...)
  local a, b, c, d = ...
  if n == 2 then
    return a, a, b, nil
  end
  return a, b, c, d
end

--- A handle function from a function or a resolver table {[matchSpec] = function}.
function handlers.generateResolver(resolveSpec)
  if type(resolveSpec) == "function" then
    return resolveSpec
  end
  return function(msg, env)
    for matchSpec, func in pairs(resolveSpec) do
      if utils.matchesSpec(msg, matchSpec) then
        return func(msg, env)
      end
    end
  end
end

local function upsert(name, pattern, handle, maxRuns, position)
  assertAddArgs(name, pattern, handle, maxRuns)
  handle = handlers.generateResolver(handle)
  local idx = findIndexByProp(handlers.list, "name", name)
  if idx then
    local o = handlers.list[idx]
    o.pattern, o.handle, o.maxRuns = pattern, handle, maxRuns
  else
    local entry = { name = name, pattern = pattern, handle = handle, maxRuns = maxRuns }
    if position then
      insert(handlers.list, position, entry)
    else
      insert(handlers.list, entry)
    end
  end
  changed()
end

--- add(name, pattern, handle[, maxRuns]) or add(action, handle): append, or update in place by name.
function handlers.add(...)
  local name, pattern, handle, maxRuns = parseArgs(...)
  upsert(name, pattern, handle, maxRuns, nil)
  return #handlers.list
end

--- append: the same as add.
function handlers.append(...)
  local name, pattern, handle, maxRuns = parseArgs(...)
  upsert(name, pattern, handle, maxRuns, nil)
end

--- prepend(name, pattern, handle[, maxRuns]): put first, or update in place by name.
function handlers.prepend(...)
  local name, pattern, handle, maxRuns = parseArgs(...)
  upsert(name, pattern, handle, maxRuns, 1)
end

--- once([name,] pattern, handle): a handler that runs once, first in the list.
function handlers.once(...)
  local name, pattern, handle
  if select("#", ...) == 3 then
    name, pattern, handle = ...
  else
    name = "_once_" .. tostring(handlers.onceNonce)
    handlers.onceNonce = handlers.onceNonce + 1
    pattern, handle = ...
  end
  handlers.prepend(name, pattern, handle, 1)
end

local function positioned(handleName, offset)
  assert(type(handleName) == "string", "Handler name MUST be a string")
  return {
    add = function(name, pattern, handle, maxRuns)
      assertAddArgs(name, pattern, handle, maxRuns)
      local idx = findIndexByProp(handlers.list, "name", handleName)
      if not idx then
        error("no handler named '" .. handleName .. "'", 2)
      end
      local existing = findIndexByProp(handlers.list, "name", name)
      if existing then
        remove(handlers.list, existing)
        if existing < idx then
          idx = idx - 1
        end
      end
      insert(handlers.list, idx + offset, {
        name = name, pattern = pattern, handle = handlers.generateResolver(handle), maxRuns = maxRuns,
      })
      changed()
    end,
  }
end

--- before(name).add(...): insert a handler just before the handler called `name`.
function handlers.before(handleName)
  return positioned(handleName, 0)
end

--- after(name).add(...): insert a handler just after the handler called `name`.
function handlers.after(handleName)
  return positioned(handleName, 1)
end

--- remove(name): remove the handler called `name` (if any).
function handlers.remove(name)
  assert(type(name) == "string", "name MUST be string")
  local idx = findIndexByProp(handlers.list, "name", name)
  if idx then
    remove(handlers.list, idx)
    changed()
  end
end

--- receive(pattern): wait (suspending the running handler) for the next message matching pattern.
function handlers.receive(pattern)
  local self, ismain = coroutine.running()
  if self == nil or ismain then
    error("Receive can only be used inside a handler", 2)
  end
  handlers.once(pattern, function(msg)
    local ok, status, err = coroutine.resume(self, msg)
    if not ok then
      error(status, 0)
    end
    if status == false then
      error(err, 0)
    end
  end)
  return coroutine.yield(pattern)
end

local function normalizeMatch(match)
  local mt = type(match)
  if mt == "boolean" then
    return match and -1 or 0
  elseif mt == "string" then
    if match == "continue" then
      return 1
    elseif match == "break" then
      return -1
    end
    return 0
  elseif mt == "number" then
    return match
  elseif match == nil then
    return 0
  end
  error("Pattern result is not valid, it MUST be string, number, or boolean", 0)
end

--- Run the matching handlers for msg (see the module comment). Returns whether a handler broke.
--- `head` (the runtime's own handlers, e.g. `_eval`) run before the list; `fallback` runs when no
--- handler broke, unless the list has a handler named `_default`, which then runs instead.
function handlers.evaluate(msg, env, head, fallback)
  assert(type(msg) == "table", "msg is not valid")
  assert(type(env) == "table", "env is not valid")
  local live = handlers.list
  local snapshot, n, system = {}, 0, {}
  if head then
    for _, o in ipairs(head) do
      n = n + 1
      snapshot[n] = o
      system[o] = true
    end
  end
  for i = 1, #live do
    n = n + 1
    snapshot[n] = live[i]
  end
  local gen, present = generation, nil
  local handled = false
  for i = 1, n do
    local o = snapshot[i]
    if generation ~= gen or handlers.list ~= live then
      present = {}
      for _, x in ipairs(handlers.list) do
        present[x] = true
      end
      gen, live = generation, handlers.list
    end
    if o.name ~= "_default" and (present == nil or present[o] or system[o]) then
      local match = normalizeMatch(utils.matchesSpec(msg, o.pattern))
      if match ~= 0 then
        if match < 0 then
          handled = true
        end
        o.handle(msg, env)
        if o.maxRuns ~= nil and o.maxRuns ~= "inf" then
          o.maxRuns = o.maxRuns - 1
          if o.maxRuns <= 0 then
            for j, x in ipairs(handlers.list) do
              if x == o then
                remove(handlers.list, j)
                changed()
                break
              end
            end
          end
        end
        if match < 0 then
          return handled
        end
      end
    end
  end
  if not handled then
    local idx = findIndexByProp(handlers.list, "name", "_default")
    if idx then
      handlers.list[idx].handle(msg, env)
    elseif fallback then
      fallback(msg, env)
    end
  end
  return handled
end

return handlers
