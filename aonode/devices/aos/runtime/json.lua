-- json: JSON for the aonode AOS runtime (`require("json")`, also the global `json`).
--
-- encode is canonical: object keys sorted (byte order), integers (and floats with an integral value
-- within +/-2^53) written without a fraction, other floats with %.14g as AOS's json (not always
-- exact: 1/3 -> 0.33333333333333, but deterministic), strings escaped minimally (", \, control characters) and otherwise
-- left as UTF-8 bytes. A table whose keys are exactly 1..n is an array; an empty table is `[]` (as in
-- AOS's json); a table whose keys are all strings is an object (function values are skipped, as in
-- AOS); anything else (mixed or sparse keys, NaN, infinities, functions in arrays, cycles) is an error.
-- decode accepts RFC 8259 JSON; `null` becomes nil (as in AOS), numbers become Lua integers when they
-- are written without fraction or exponent and fit, else floats.

local json = { _version = "0.1.2" }

local byte, char, find, format, sub, match = string.byte, string.char, string.find, string.format,
  string.sub, string.match
local concat, sort = table.concat, table.sort
local mtype, floor, tointeger, huge = math.type, math.floor, math.tointeger, math.huge
local type, pairs, next, tostring, tonumber, error, rawget = type, pairs, next, tostring, tonumber,
  error, rawget

-------------------------------------------------------------------------------
-- encode
-------------------------------------------------------------------------------

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function escape_char(c)
  return ESCAPES[c] or format("\\u%04x", byte(c))
end

local function encode_string(s)
  if not find(s, '[%c"\\]') then
    return '"' .. s .. '"'
  end
  -- %c includes DEL (127), which JSON allows raw; escaping it too is still valid JSON.
  return '"' .. (s:gsub('[%c"\\]', escape_char)) .. '"'
end

local TWO_53 = 9007199254740992.0

local function encode_number(n)
  if mtype(n) == "integer" then
    return format("%d", n)
  end
  if n ~= n or n == huge or n == -huge then
    error("cannot encode " .. tostring(n) .. " as JSON", 0)
  end
  if n == floor(n) and n >= -TWO_53 and n <= TWO_53 then
    return format("%d", tointeger(n))
  end
  -- AOS's json writes floats with %.14g (1/3 -> 0.33333333333333): not exact, but deterministic
  return format("%.14g", n)
end

local encode

local function encode_table(t, stack)
  if stack[t] then
    error("cannot encode a table with a circular reference as JSON", 0)
  end
  -- One pass over the keys: count them, classify them, and remember the string keys (with whether
  -- they already came in sorted order, as they do from a host whose pairs is ordered).
  local count, all_strings, all_ints = 0, true, true
  local keys, n, in_order = {}, 0, true
  for k, v in next, t do
    count = count + 1
    if type(k) == "string" then
      all_ints = false
      if type(v) ~= "function" then
        n = n + 1
        keys[n] = k
        if in_order and n > 1 and keys[n - 1] > k then
          in_order = false
        end
      end
    elseif mtype(k) == "integer" and k >= 1 then
      all_strings = false
    else
      all_strings, all_ints = false, false
    end
  end
  if count == 0 then
    return "[]"
  end
  stack[t] = true
  local parts = {}
  local out
  if all_ints then
    for i = 1, count do
      local v = rawget(t, i)
      if v == nil then
        error("cannot encode a sparse array as JSON", 0)
      end
      parts[i] = encode(v, stack)
    end
    out = "[" .. concat(parts, ",") .. "]"
  elseif all_strings then
    if not in_order then
      sort(keys)
    end
    for i = 1, n do
      local k = keys[i]
      parts[i] = encode_string(k) .. ":" .. encode(rawget(t, k), stack)
    end
    out = "{" .. concat(parts, ",") .. "}"
  else
    error("cannot encode a table with mixed or invalid key types as JSON", 0)
  end
  stack[t] = nil
  return out
end

encode = function(v, stack)
  local t = type(v)
  if t == "string" then
    return encode_string(v)
  elseif t == "number" then
    return encode_number(v)
  elseif t == "boolean" then
    return v and "true" or "false"
  elseif t == "nil" then
    return "null"
  elseif t == "table" then
    return encode_table(v, stack)
  end
  error("cannot encode a value of type '" .. t .. "' as JSON", 0)
end

--- Encode a Lua value as canonical JSON text.
function json.encode(v)
  return encode(v, {})
end

-------------------------------------------------------------------------------
-- decode
-------------------------------------------------------------------------------

local function decode_error(str, idx, msg)
  local line, col = 1, 1
  for i = 1, idx - 1 do
    col = col + 1
    if byte(str, i) == 10 then
      line = line + 1
      col = 1
    end
  end
  error(format("json: %s at line %d col %d", msg, line, col), 0)
end

local function skip_space(str, idx)
  return find(str, "[^ \t\r\n]", idx) or #str + 1
end

local UNESCAPES = {
  ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
}

local utf8char = utf8.char

local function parse_string(str, i)
  local parts, n = nil, 0
  local j = i + 1
  while true do
    local k = find(str, '[%z\1-\31"\\]', j)
    if not k then
      decode_error(str, i, "expected closing quote for string")
    end
    local c = byte(str, k)
    if c == 34 then -- closing quote
      if not parts then
        return sub(str, j, k - 1), k + 1
      end
      n = n + 1
      parts[n] = sub(str, j, k - 1)
      return concat(parts), k + 1
    elseif c == 92 then -- backslash
      parts = parts or {}
      n = n + 1
      parts[n] = sub(str, j, k - 1)
      local e = sub(str, k + 1, k + 1)
      if e == "u" then
        local hex = match(str, "^[dD][89aAbB]%x%x\\u%x%x%x%x", k + 2) or match(str, "^%x%x%x%x", k + 2)
        if not hex then
          decode_error(str, k, "invalid unicode escape in string")
        end
        local n1 = tonumber(sub(hex, 1, 4), 16)
        local cp = n1
        if #hex == 10 then
          local n2 = tonumber(sub(hex, 7, 10), 16)
          if n2 >= 0xDC00 and n2 <= 0xDFFF then
            cp = (n1 - 0xD800) * 0x400 + (n2 - 0xDC00) + 0x10000
          else
            hex = sub(hex, 1, 4) -- a high surrogate not followed by a low one: keep the next escape
          end
        end
        n = n + 1
        parts[n] = utf8char(cp)
        j = k + 2 + #hex
      else
        local v = UNESCAPES[e]
        if not v then
          decode_error(str, k, "invalid escape char '" .. e .. "' in string")
        end
        n = n + 1
        parts[n] = v
        j = k + 2
      end
    else
      decode_error(str, k, "control character in string")
    end
  end
end

local function parse_number(str, i)
  local s = match(str, "^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if not s or not (find(s, "^-?%d+$") or find(s, "^-?%d+%.%d+$") or find(s, "^-?%d+%.?%d*[eE][-+]?%d+$"))
    or find(s, "^-?0%d") then
    decode_error(str, i, "invalid number '" .. (s or sub(str, i, i)) .. "'")
  end
  local n = tonumber(s)
  if not n then
    decode_error(str, i, "invalid number '" .. s .. "'")
  end
  return n, i + #s
end

local parse

local function parse_array(str, i)
  local res, n = {}, 0
  i = skip_space(str, i + 1)
  if byte(str, i) == 93 then -- ]
    return res, i + 1
  end
  while true do
    local v
    v, i = parse(str, i)
    n = n + 1
    res[n] = v
    i = skip_space(str, i)
    local c = byte(str, i)
    if c == 93 then
      return res, i + 1
    elseif c ~= 44 then -- ,
      decode_error(str, i, "expected ']' or ','")
    end
    i = skip_space(str, i + 1)
  end
end

local function parse_object(str, i)
  local res = {}
  i = skip_space(str, i + 1)
  if byte(str, i) == 125 then -- }
    return res, i + 1
  end
  while true do
    if byte(str, i) ~= 34 then
      decode_error(str, i, "expected string for key")
    end
    local key
    key, i = parse_string(str, i)
    i = skip_space(str, i)
    if byte(str, i) ~= 58 then -- :
      decode_error(str, i, "expected ':' after key")
    end
    i = skip_space(str, i + 1)
    local v
    v, i = parse(str, i)
    res[key] = v
    i = skip_space(str, i)
    local c = byte(str, i)
    if c == 125 then
      return res, i + 1
    elseif c ~= 44 then
      decode_error(str, i, "expected '}' or ','")
    end
    i = skip_space(str, i + 1)
  end
end

local function parse_literal(str, i, word, value)
  if sub(str, i, i + #word - 1) ~= word then
    decode_error(str, i, "invalid literal")
  end
  return value, i + #word
end

parse = function(str, i)
  local c = byte(str, i)
  if c == 34 then
    return parse_string(str, i)
  elseif c == 123 then
    return parse_object(str, i)
  elseif c == 91 then
    return parse_array(str, i)
  elseif c == 45 or (c and c >= 48 and c <= 57) then
    return parse_number(str, i)
  elseif c == 116 then
    return parse_literal(str, i, "true", true)
  elseif c == 102 then
    return parse_literal(str, i, "false", false)
  elseif c == 110 then
    return parse_literal(str, i, "null", nil)
  end
  decode_error(str, i, c and ("unexpected character '" .. char(c) .. "'") or "unexpected end of input")
end

--- Decode JSON text into Lua values (null becomes nil).
function json.decode(str)
  if type(str) ~= "string" then
    error("json.decode: expected a string, got " .. type(str), 2)
  end
  local v, i = parse(str, skip_space(str, 1))
  i = skip_space(str, i)
  if i <= #str then
    decode_error(str, i, "trailing garbage")
  end
  return v
end

return json
