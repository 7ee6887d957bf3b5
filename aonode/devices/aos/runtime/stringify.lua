-- stringify: deterministic pretty-printing of Lua values (what Eval and print show).
--
-- Like AOS's stringify, with its ANSI colours (strings green, numbers and booleans blue, keys red) and
-- with a fixed order: the array part 1..n first, in order,
-- then the other keys sorted (numbers, then strings, then booleans, then anything else by tostring).
-- An array of scalars fits on one line: { 1, "two", 3 }. Other tables are one entry per line,
-- indented by two spaces per level, with `key = value` entries; keys that are Lua identifiers are
-- written bare, others as ["key"] or [number]. Strings are double-quoted with \ " and control
-- characters escaped. A table met again while it is being printed is shown as <circular reference>;
-- a table whose metatable has __tostring is shown by it. Functions, threads and userdata are shown as
-- <function>, <thread>, <userdata> (never an address).

local stringify = { _version = "aonode-1" }

local type, ipairs, next, tostring, getmetatable, rawget = type, ipairs, next, tostring, getmetatable,
  rawget
local concat, sort = table.concat, table.sort
local find, format, rep, byte, gsub = string.find, string.format, string.rep, string.byte, string.gsub

local RESERVED = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or repeat return
  then true until while]]):gmatch("%a+") do
  RESERVED[w] = true
end

local QUOTE_ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  if not find(s, '[%c"\\]') then
    return '"' .. s .. '"'
  end
  return '"' .. gsub(s, '[%c"\\]', function(c)
    return QUOTE_ESCAPES[c] or format("\\%03d", byte(c))
  end) .. '"'
end
stringify.quote = quote

local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local ra, rb = TYPE_RANK[ta] or 4, TYPE_RANK[tb] or 4
    if ra ~= rb then
      return ra < rb
    end
    return ta < tb
  end
  if ta == "number" or ta == "string" then
    return a < b
  elseif ta == "boolean" then
    return (not a) and b
  end
  return tostring(a) < tostring(b)
end
stringify.keyLess = key_less

--- The keys of `t` in the order stringify prints them: 1..n, then the rest sorted.
function stringify.sortedKeys(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do
    n = n + 1
  end
  local rest, m = {}, 0
  for k in next, t do
    if not (type(k) == "number" and k >= 1 and k <= n and k % 1 == 0) then
      m = m + 1
      rest[m] = k
    end
  end
  sort(rest, key_less)
  return n, rest
end

local function custom_tostring(v)
  local mt = getmetatable(v)
  if type(mt) == "table" then
    local f = rawget(mt, "__tostring")
    if type(f) == "function" then
      return tostring(f(v))
    end
  end
  return nil
end

local OPAQUE = { ["function"] = "<function>", thread = "<thread>", userdata = "<userdata>" }
local RED, GREEN, BLUE, RESET = "\27[31m", "\27[32m", "\27[34m", "\27[0m"

-- As AOS's stringify colours them: strings green, other scalars blue, keys red.
local function scalar(v)
  local t = type(v)
  if t == "string" then
    return GREEN .. quote(v) .. RESET
  end
  return BLUE .. (OPAQUE[t] or tostring(v)) .. RESET
end

local function key_text(k)
  if type(k) == "string" then
    if find(k, "^[%a_][%w_]*$") and not RESERVED[k] then
      return RED .. k .. RESET
    end
    return "[" .. RED .. quote(k) .. RESET .. "]"
  end
  return "[" .. scalar(k) .. "]"
end

local format_value

local function format_table(t, indent, visiting)
  local custom = custom_tostring(t)
  if custom ~= nil then
    return custom
  end
  if visiting[t] then
    return "<circular reference>"
  end
  local n, rest = stringify.sortedKeys(t)
  if n == 0 and #rest == 0 then
    return "{}"
  end
  visiting[t] = true
  local out
  local simple = #rest == 0
  if simple then
    for i = 1, n do
      if type(rawget(t, i)) == "table" then
        simple = false
        break
      end
    end
  end
  if simple then
    local items = {}
    for i = 1, n do
      items[i] = scalar(rawget(t, i))
    end
    out = "{ " .. concat(items, ", ") .. " }"
  else
    local pad = rep("  ", indent + 1)
    local lines, m = {}, 0
    for i = 1, n do
      m = m + 1
      lines[m] = pad .. format_value(rawget(t, i), indent + 1, visiting)
    end
    for _, k in ipairs(rest) do
      m = m + 1
      lines[m] = pad .. key_text(k) .. " = " .. format_value(rawget(t, k), indent + 1, visiting)
    end
    out = "{\n" .. concat(lines, ",\n") .. "\n" .. rep("  ", indent) .. "}"
  end
  visiting[t] = nil
  return out
end

format_value = function(v, indent, visiting)
  if type(v) == "table" then
    return format_table(v, indent, visiting)
  end
  return scalar(v)
end

--- Pretty-print a value: tables as described above, strings quoted, other values by tostring.
function stringify.format(v, indent)
  return format_value(v, indent or 0, {})
end

--- What Eval and print show for a value: strings as they are, tables pretty-printed, numbers, booleans
--- and nil by tostring, functions/threads/userdata as <function>/<thread>/<userdata>.
function stringify.display(v)
  local t = type(v)
  if t == "table" then
    return format_table(v, 0, {})
  end
  return OPAQUE[t] or tostring(v)
end

return stringify
