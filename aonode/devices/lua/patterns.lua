--[[
patterns.lua: Lua 5.3's string patterns (find, match, gmatch, gsub) written in Lua.

C functions cannot be interrupted by the instruction hook, and the C matcher backtracks: a pattern
with several quantifiers can take exponential time on a short subject. The sandbox estimates the
worst-case cost of each call; calls that could run long go through this port instead, where every
step is a VM instruction that the budget counts. It follows lstrlib.c (5.3.6) line by line, so
results, captures and error messages are the same as the C matcher's; a test compares the two.

Character classes use the C locale (the node checks at start-up that the C library agrees).
Errors are raised as {[ERR] = message} so the caller can re-raise them without a position, the way
the C versions' errors look when called through the sandbox.
--]]

local sbyte, ssub, sfind = string.byte, string.sub, string.find
local tconcat, tunpack = table.concat, table.unpack
local type, error, tostring = type, error, tostring

local ERR = {}  -- key of the error tables raised here
local L_ESC = 37  -- '%'
local CAP_UNFINISHED, CAP_POSITION = -1, -2
local MAXCAPTURES, MAXCCALLS = 32, 200

local function perr(msg)
  error({[ERR] = msg}, 0)
end

-- ctype tables for the C locale: CLASS[letter][byte] = true
local CLASS = {}
do
  local function range(t, a, b) for c = a, b do t[c] = true end end
  local alpha, digit, lower, upper, space, cntrl, punct, xdigit = {}, {}, {}, {}, {}, {}, {}, {}
  range(lower, 97, 122); range(upper, 65, 90)
  range(alpha, 97, 122); range(alpha, 65, 90)
  range(digit, 48, 57)
  range(space, 9, 13); space[32] = true
  range(cntrl, 0, 31); cntrl[127] = true
  range(punct, 33, 47); range(punct, 58, 64); range(punct, 91, 96); range(punct, 123, 126)
  range(xdigit, 48, 57); range(xdigit, 65, 70); range(xdigit, 97, 102)
  local alnum, graph = {}, {}
  range(alnum, 48, 57); range(alnum, 65, 90); range(alnum, 97, 122)
  range(graph, 33, 126)
  CLASS[97] = alpha; CLASS[99] = cntrl; CLASS[100] = digit; CLASS[103] = graph; CLASS[108] = lower
  CLASS[112] = punct; CLASS[115] = space; CLASS[117] = upper; CLASS[119] = alnum; CLASS[120] = xdigit
  CLASS[122] = {[0] = true}  -- %z (deprecated)
end

local function match_class(c, cl)
  local upper = cl ~= nil and cl >= 65 and cl <= 90
  local tbl = CLASS[upper and cl + 32 or cl]
  if tbl == nil then return cl == c end
  local res = tbl[c] == true
  if upper then return not res end
  return res
end

local function class_end(ms, p)
  local pat, pend = ms.pat, ms.pend
  local c = sbyte(pat, p)
  p = p + 1
  if c == L_ESC then
    if p >= pend then perr("malformed pattern (ends with '%')") end
    return p + 1
  elseif c == 91 then  -- '['
    if sbyte(pat, p) == 94 then p = p + 1 end  -- '^'
    repeat  -- look for a ']'
      if p >= pend then perr("malformed pattern (missing ']')") end
      local cc = sbyte(pat, p)
      p = p + 1
      if cc == L_ESC and p < pend then p = p + 1 end  -- skip escapes (e.g. '%]')
    until sbyte(pat, p) == 93
    return p + 1
  end
  return p
end

-- p points at '[', ec at the closing ']'
local function match_bracket(pat, c, p, ec)
  local sig = true
  if sbyte(pat, p + 1) == 94 then
    sig = false
    p = p + 1
  end
  p = p + 1
  while p < ec do
    local pc = sbyte(pat, p)
    if pc == L_ESC then
      p = p + 1
      if match_class(c, sbyte(pat, p)) then return sig end
    elseif sbyte(pat, p + 1) == 45 and p + 2 < ec then  -- range a-z
      p = p + 2
      if pc <= c and c <= sbyte(pat, p) then return sig end
    elseif pc == c then
      return sig
    end
    p = p + 1
  end
  return not sig
end

local function single(ms, s, p, ep)
  if s > ms.n then return false end
  local c = sbyte(ms.src, s)
  local pc = sbyte(ms.pat, p)
  if pc == 46 then return true  -- '.'
  elseif pc == L_ESC then return match_class(c, sbyte(ms.pat, p + 1))
  elseif pc == 91 then return match_bracket(ms.pat, c, p, ep - 1)
  end
  return pc == c
end

local match  -- forward declaration (mutual recursion)

local function match_balance(ms, s, p)
  if p >= ms.pend - 1 then perr("malformed pattern (missing arguments to '%b')") end
  local src, n = ms.src, ms.n
  local b = sbyte(ms.pat, p)
  if s > n or sbyte(src, s) ~= b then return nil end
  local e = sbyte(ms.pat, p + 1)
  local cont = 1
  s = s + 1
  while s <= n do
    local c = sbyte(src, s)
    if c == e then
      cont = cont - 1
      if cont == 0 then return s + 1 end
    elseif c == b then
      cont = cont + 1
    end
    s = s + 1
  end
  return nil
end

local function max_expand(ms, s, p, ep)
  local i = 0
  while single(ms, s + i, p, ep) do i = i + 1 end
  while i >= 0 do  -- try with the most repetitions first
    local res = match(ms, s + i, ep + 1)
    if res then return res end
    i = i - 1
  end
  return nil
end

local function min_expand(ms, s, p, ep)
  while true do
    local res = match(ms, s, ep + 1)
    if res then return res end
    if single(ms, s, p, ep) then s = s + 1 else return nil end
  end
end

local function start_capture(ms, s, p, what)
  local level = ms.level
  if level >= MAXCAPTURES then perr("too many captures") end
  ms.cinit[level] = s
  ms.clen[level] = what
  ms.level = level + 1
  local res = match(ms, s, p)
  if not res then ms.level = ms.level - 1 end  -- undo capture
  return res
end

local function end_capture(ms, s, p)
  local l = ms.level - 1
  while l >= 0 and ms.clen[l] ~= CAP_UNFINISHED do l = l - 1 end
  if l < 0 then perr("invalid pattern capture") end
  ms.clen[l] = s - ms.cinit[l]
  local res = match(ms, s, p)
  if not res then ms.clen[l] = CAP_UNFINISHED end  -- undo capture
  return res
end

local function check_capture(ms, l)
  l = l - 49  -- '1'
  if l < 0 or l >= ms.level or ms.clen[l] == CAP_UNFINISHED then
    perr("invalid capture index %" .. (l + 1))
  end
  return l
end

local function match_capture(ms, s, l)
  l = check_capture(ms, l)
  local len = ms.clen[l]
  if len < 0 then return nil end  -- a position capture: C compares with a huge size_t and fails
  local init = ms.cinit[l]
  if ms.n + 1 - s >= len and ssub(ms.src, init, init + len - 1) == ssub(ms.src, s, s + len - 1) then
    return s + len
  end
  return nil
end

match = function(ms, s, p)
  local md = ms.depth
  if md == 0 then perr("pattern too complex") end
  ms.depth = md - 1
  local pat, pend = ms.pat, ms.pend
  while p ~= pend do  -- each 'continue' below is C's 'goto init'
    local pc = sbyte(pat, p)
    if pc == 40 then  -- '('
      if sbyte(pat, p + 1) == 41 then s = start_capture(ms, s, p + 2, CAP_POSITION)
      else s = start_capture(ms, s, p + 1, CAP_UNFINISHED) end
      break
    elseif pc == 41 then  -- ')'
      s = end_capture(ms, s, p + 1)
      break
    elseif pc == 36 and p + 1 == pend then  -- '$' as the last character
      if s ~= ms.n + 1 then s = nil end
      break
    else
      local nc = pc == L_ESC and sbyte(pat, p + 1) or nil
      if nc == 98 then  -- %b
        s = match_balance(ms, s, p + 2)
        if s == nil then break end
        p = p + 4
      elseif nc == 102 then  -- %f
        p = p + 2
        if sbyte(pat, p) ~= 91 then perr("missing '[' after '%f' in pattern") end
        local ep = class_end(ms, p)
        local prev = s == 1 and 0 or sbyte(ms.src, s - 1)
        local cur = sbyte(ms.src, s) or 0
        if not match_bracket(pat, prev, p, ep - 1) and match_bracket(pat, cur, p, ep - 1) then
          p = ep
        else
          s = nil
          break
        end
      elseif nc ~= nil and nc >= 48 and nc <= 57 then  -- %0-%9
        s = match_capture(ms, s, nc)
        if s == nil then break end
        p = p + 2
      else  -- a single-character class with an optional suffix
        local ep = class_end(ms, p)
        local epc = sbyte(pat, ep)
        if not single(ms, s, p, ep) then
          if epc == 42 or epc == 63 or epc == 45 then  -- '*' '?' '-' accept empty
            p = ep + 1
          else
            s = nil
            break
          end
        elseif epc == 63 then  -- '?'
          local res = match(ms, s + 1, ep + 1)
          if res then
            s = res
            break
          end
          p = ep + 1
        elseif epc == 43 then  -- '+'
          s = max_expand(ms, s + 1, p, ep)
          break
        elseif epc == 42 then  -- '*'
          s = max_expand(ms, s, p, ep)
          break
        elseif epc == 45 then  -- '-'
          s = min_expand(ms, s, p, ep)
          break
        else
          s = s + 1
          p = ep
        end
      end
    end
  end
  ms.depth = ms.depth + 1
  return s
end

local function new_state(src, pat, pstart)
  return {src = src, n = #src, pat = pat, pend = #pat + 1, level = 0, depth = MAXCCALLS,
          cinit = {}, clen = {}, pstart = pstart}
end

local function reset(ms)
  ms.level = 0
  ms.depth = MAXCCALLS
end

local function one_capture(ms, i, s, e)
  if i >= ms.level then
    if i == 0 then return ssub(ms.src, s, e - 1) end  -- the whole match
    perr("invalid capture index %" .. (i + 1))
  end
  local l = ms.clen[i]
  if l == CAP_UNFINISHED then perr("unfinished capture") end
  if l == CAP_POSITION then return ms.cinit[i] end
  return ssub(ms.src, ms.cinit[i], ms.cinit[i] + l - 1)
end

-- the captures of a match (s == nil: only explicit captures, as string.find returns them)
local function captures(ms, s, e)
  local level = ms.level
  if level == 0 then
    if s then return ssub(ms.src, s, e - 1) end
    return
  end
  if level == 1 then return one_capture(ms, 0, s, e) end
  local out = {}
  for i = 0, level - 1 do out[i + 1] = one_capture(ms, i, s, e) end
  return tunpack(out, 1, level)
end

local M = {ERR = ERR}

-- find/match from 'init' (already a position in 1..#s+1); the caller handles plain finds
function M.find(s, p, init, find)
  local anchor = sbyte(p, 1) == 94
  local ms = new_state(s, p, anchor and 2 or 1)
  local s1, last = init, ms.n + 1
  repeat
    reset(ms)
    local res = match(ms, s1, ms.pstart)
    if res then
      if find then return s1, res - 1, captures(ms, nil, 0) end
      return captures(ms, s1, res)
    end
    s1 = s1 + 1
  until s1 > last or anchor
  return nil
end

function M.gmatch(s, p)
  local ms = new_state(s, p, 1)  -- gmatch has no anchor
  local src, lastmatch = 1, nil
  return function()
    local start = src
    while start <= ms.n + 1 do
      reset(ms)
      local e = match(ms, start, 1)
      if e and e ~= lastmatch then
        src, lastmatch = e, e
        return captures(ms, start, e)
      end
      start = start + 1
    end
  end
end

local function add_s(ms, s, e, news, out, no)
  local i, l = 1, #news
  local run = 1  -- start of the pending literal run
  while i <= l do
    if sbyte(news, i) == L_ESC then
      if run < i then no = no + 1; out[no] = ssub(news, run, i - 1) end
      i = i + 1
      local d = sbyte(news, i)
      if d == nil or d < 48 or d > 57 then
        if d ~= L_ESC then perr("invalid use of '%' in replacement string") end
        no = no + 1; out[no] = "%"
      elseif d == 48 then
        no = no + 1; out[no] = ssub(ms.src, s, e - 1)
      else
        no = no + 1; out[no] = tostring(one_capture(ms, d - 49, s, e))
      end
      run = i + 1
    end
    i = i + 1
  end
  if run <= l then no = no + 1; out[no] = ssub(news, run, l) end
  return no
end

local function add_value(ms, s, e, repl, tr, out, no)
  local v
  if tr == "function" then
    v = repl(captures(ms, s, e))
  elseif tr == "table" then
    v = repl[one_capture(ms, 0, s, e)]
  else
    return add_s(ms, s, e, repl, out, no)
  end
  if not v then
    v = ssub(ms.src, s, e - 1)  -- keep the original text
  else
    local tv = type(v)
    if tv == "number" then v = tostring(v)
    elseif tv ~= "string" then perr("invalid replacement value (a " .. tv .. ")") end
  end
  no = no + 1
  out[no] = v
  return no
end

-- repl is a string (numbers already converted), a table or a function; max_n an integer
function M.gsub(s, p, repl, max_n)
  local tr = type(repl)
  if tr == "string" and not sfind(repl, "%", 1, true) then tr = "plain" end
  local anchor = sbyte(p, 1) == 94
  local ms = new_state(s, p, anchor and 2 or 1)
  local out, no = {}, 0
  local src, lastmatch, n, copied = 1, nil, 0, 1
  while n < max_n do
    reset(ms)
    local e = match(ms, src, ms.pstart)
    if e and e ~= lastmatch then
      n = n + 1
      if copied < src then no = no + 1; out[no] = ssub(s, copied, src - 1) end
      if tr == "plain" then
        no = no + 1; out[no] = repl
      else
        no = add_value(ms, src, e, repl, tr, out, no)
      end
      src, lastmatch, copied = e, e, e
    elseif src <= ms.n then
      src = src + 1
    else
      break
    end
    if anchor then break end
  end
  if copied <= ms.n then no = no + 1; out[no] = ssub(s, copied) end
  return tconcat(out, "", 1, no), n
end

return M
