-- utils: pattern matching for Handlers, and AOS's small functional helpers (global `Utils`).
--
-- matchesSpec(msg, spec) decides whether a handler's pattern matches a message, as AOS does:
--   * a function: called with msg; its result is returned as it is (Handlers.evaluate interprets it);
--   * a string: matches when msg.Action equals it;
--   * a table: every key must be present in msg (or msg.Tags) and its value must match the pattern:
--     "_" (any value), a function (value, msg) -> truthy, a string (equal; or, when it contains one of
--     ^$()%.[]*+? , a Lua pattern matched against the value), or a table of such patterns (any).

local utils = { _version = "0.0.5" }

local type, pairs, ipairs, select, tostring, assert = type, pairs, ipairs, select, tostring, assert
local find, match = string.find, string.match
local gsub, upper, lower, sub = string.gsub, string.upper, string.lower, string.sub
local unpack = table.unpack

local SPECIAL = "[%^%$%(%)%%%.%[%]%*%+%?]"

--- Whether `value` (a tag value or field of msg) matches `pattern`.
function utils.matchesPattern(pattern, value, msg)
  if pattern == nil then
    return false
  end
  if pattern == "_" then
    return true
  end
  local pt = type(pattern)
  if pt == "function" then
    return pattern(value, msg) and true or false
  end
  if pt == "string" then
    if type(value) ~= "string" then
      value = tostring(value)
    end
    if find(pattern, SPECIAL) then
      return match(value, pattern) ~= nil
    end
    return value == pattern
  end
  if pt == "table" then
    for _, sub in pairs(pattern) do
      if utils.matchesPattern(sub, value, msg) then
        return true
      end
    end
  end
  return false
end

--- A tag name in its canonical form, as AOS normalizes message keys: each `-`-separated part with its
--- first letter upper-case and the rest lower-case ("data-PROTOCOL" -> "Data-Protocol").
function utils.normalize(name)
  if type(name) ~= "string" then
    return name
  end
  return (gsub(name, "[^%-]+", function(part)
    return upper(sub(part, 1, 1)) .. lower(sub(part, 2))
  end))
end

--- "hello" -> "Hello" (the rest lower-cased, as AOS's utils.capitalize).
function utils.capitalize(str)
  if type(str) ~= "string" or str == "" then
    return str
  end
  return upper(sub(str, 1, 1)) .. lower(sub(str, 2))
end

--- Whether `msg` matches `spec` (see the module comment). Function specs return their own result.
function utils.matchesSpec(msg, spec)
  local st = type(spec)
  if st == "function" then
    return spec(msg)
  end
  if st == "string" then
    return msg.Action == spec
  end
  if st == "table" then
    local tags = msg.Tags
    for key, pattern in pairs(spec) do
      local value = msg[key]
      if value == nil and type(tags) == "table" then
        value = tags[key]
      end
      if value == nil and type(key) == "string" then
        -- a spec written in another case ({action = "Ping"}) matches the canonical tag name
        local canonical = utils.normalize(key)
        value = msg[canonical]
        if value == nil and type(tags) == "table" then
          value = tags[canonical]
        end
      end
      if value == nil then
        return false
      end
      if not utils.matchesPattern(pattern, value, msg) then
        return false
      end
    end
    return true
  end
  return false
end

local function isArray(t)
  if type(t) ~= "table" then
    return false
  end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then
      return false
    end
    n = n + 1
  end
  return n == #t
end
utils.isArray = isArray

--- curry(fn, arity): a function taking `arity` arguments in one or more calls (arity defaults to 2;
--- AOS reads it with debug.getinfo, which the sandbox does not have).
function utils.curry(fn, arity)
  assert(type(fn) == "function", "function is required as first argument")
  arity = arity or 2
  if arity < 2 then
    return fn
  end
  return function(...)
    local args = { ... }
    local n = select("#", ...)
    if n >= arity then
      return fn(...)
    end
    return utils.curry(function(...)
      local all = { unpack(args, 1, n) }
      local m = select("#", ...)
      for i = 1, m do
        all[n + i] = select(i, ...)
      end
      return fn(unpack(all, 1, n + m))
    end, arity - n)
  end
end

utils.concat = utils.curry(function(a, b)
  assert(isArray(a), "first argument should be a table that is an array")
  assert(isArray(b), "second argument should be a table that is an array")
  local result = {}
  for i = 1, #a do
    result[#result + 1] = a[i]
  end
  for i = 1, #b do
    result[#result + 1] = b[i]
  end
  return result
end, 2)

utils.reduce = utils.curry(function(fn, initial, t)
  assert(type(fn) == "function", "first argument should be a function that accepts (result, value, key)")
  assert(isArray(t), "third argument should be a table that is an array")
  local result = initial
  for k = 1, #t do
    local v = t[k]
    if result == nil then
      result = v
    else
      result = fn(result, v, k)
    end
  end
  return result
end, 3)

utils.map = utils.curry(function(fn, data)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(isArray(data), "second argument should be an Array")
  local result = {}
  for k = 1, #data do
    result[k] = fn(data[k], k)
  end
  return result
end, 2)

utils.filter = utils.curry(function(fn, data)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(isArray(data), "second argument should be an Array")
  local result = {}
  for k = 1, #data do
    if fn(data[k]) then
      result[#result + 1] = data[k]
    end
  end
  return result
end, 2)

utils.find = utils.curry(function(fn, t)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(t) == "table", "second argument should be a table that is an array")
  for _, v in ipairs(t) do
    if fn(v) then
      return v
    end
  end
  return nil
end, 2)

utils.propEq = utils.curry(function(propName, value, object)
  assert(type(propName) == "string", "first argument should be a string")
  assert(type(object) == "table", "third argument should be a table<object>")
  return object[propName] == value
end, 3)

function utils.reverse(data)
  assert(type(data) == "table", "argument needs to be a table that is an array")
  local result, n = {}, #data
  for i = 1, n do
    result[n - i + 1] = data[i]
  end
  return result
end

--- compose(f, g, h)(v) = f(g(h(v))).
function utils.compose(...)
  local fns = { ... }
  for _, fn in ipairs(fns) do
    assert(type(fn) == "function", "each argument needs to be a function")
  end
  return function(v)
    local result = v
    for i = #fns, 1, -1 do
      result = fns[i](result)
    end
    return result
  end
end

utils.prop = utils.curry(function(propName, object)
  return object[propName]
end, 2)

utils.includes = utils.curry(function(val, t)
  assert(type(t) == "table", "argument needs to be a table")
  for _, v in ipairs(t) do
    if v == val then
      return true
    end
  end
  return false
end, 2)

function utils.keys(t)
  assert(type(t) == "table", "argument needs to be a table")
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  return keys
end

function utils.values(t)
  assert(type(t) == "table", "argument needs to be a table")
  local values = {}
  for _, v in pairs(t) do
    values[#values + 1] = v
  end
  return values
end

--- A message's ordered tag list as a table name -> value (the first of repeated names wins).
function utils.Tab(msg)
  local inputs = {}
  local tags = msg.TagArray or msg.Tags or {}
  for _, o in ipairs(tags) do
    if inputs[o.name] == nil then
      inputs[o.name] = o.value
    end
  end
  return inputs
end

return utils
