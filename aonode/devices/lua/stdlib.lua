--[[
stdlib.lua: the parts of the standard library that process code gets in deterministic, metered form.

Loaded after sandbox.lua, with its API (charge, check_wall, tostring, used, on_begin, env); installs
its functions into the environment's string, table, math and os tables:
- table.sort: a stable merge sort in Lua (C's sort picks random pivots on large arrays, so the order
  of equal elements would vary); table.insert/remove/move/concat charge for the elements they shift;
- math.random/randomseed: xoshiro256**, seeded from (process, slot) at the start of each slot;
- os.time/os.date/os.clock: the slot's block time, in UTC; os.clock counts the budget spent;
- string.rep (result capped), string.format ('%s' of an object prints its id, not its address), and
  find/match/gmatch/gsub: the worst-case steps of the C matcher are estimated from the pattern's
  shape and the subject's length; calls over C_PATTERN_LIMIT run in patterns.lua, where every step
  is an instruction the hook counts. Work proportional to the input is charged to the budget.
- Metering. One call of a C library function is one VM instruction, however many bytes it touches
  (2,000 s:upper() of a 60 MB string is a few thousand instructions and minutes of CPU), so every
  library function whose work grows with its input is wrapped here and charged before it runs (or
  right after, where only the result tells the size): `charge_bytes(n, rate)` takes n // rate from
  the budget. Rates, measured against the VM (~3 ns an instruction on the reference machine):
  case mapping and reverse ~1 ns a byte (BYTE_RATE_MAP = 4 bytes an instruction); copies (sub,
  rep, format, gsub's result, table.concat, string.pack) ~0.2-0.4 ns a byte (BYTE_RATE_COPY =
  16); one instruction per value a function returns or takes (byte, char, table.unpack/pack, utf8
  codepoint/char); scans (find/match/gmatch/gsub, utf8.offset) one per 64 bytes, tonumber and utf8.len
  one per 4, os.date one per format byte. Calls on fewer than
  CHEAP bytes or values are not charged (the hook already counts the call itself), which keeps the
  wrappers' cost on the short strings of ordinary code small. A charge over BIG_CHARGE also looks at
  the wall clock first. Strings these functions build are capped at MAX_STRING, the smaller of
  64 MiB and half the memory limit. (The VM's own `..` cannot be charged: it is bounded by the
  memory limit and, in time, by the wall clock.)
Like every host function that runs on behalf of process code, these execute a number of Lua
instructions that depends only on their arguments (see sandbox.lua).
--]]

local sb, patterns, MAX_STRING, C_PATTERN_LIMIT, PLAIN_LIMIT, SEED_A, SEED_B = ...

local type, rawget, rawlen, select, error, tonumber, raw_tostring, ipairs =
  type, rawget, rawlen, select, error, tonumber, tostring, ipairs
local raw_pcall = pcall
local STR, TAB, OS = string, table, os
local sfmt, sbyte, ssub, sfind = string.format, string.byte, string.sub, string.find
local tunpack = table.unpack
local tointeger, ult = math.tointeger, math.ult
local os_date = os.date
local spack, sunpack = string.pack, string.unpack
local E, charge, check_wall, det_tostring, used = sb.env, sb.charge, sb.check_wall, sb.tostring, sb.used

local BYTE_RATE_MAP, BYTE_RATE_COPY, BYTE_RATE_SCAN = 4, 16, 64
local CHEAP = 256
local BIG_CHARGE = 1 << 16

local function charge_units(n)
  if n >= BIG_CHARGE then check_wall() end
  charge(n)
end

local function charge_bytes(n, rate)
  if n >= CHEAP then charge_units(n // rate) end
end

local function too_long(what, n)
  error(sfmt("%s: a result of %.0f bytes is over the %d-byte limit", what, n, MAX_STRING), 3)
end

---------------------------------------------------------------------------------------------------
-- table.sort: a stable merge sort (C's quicksort takes random pivots on large arrays, so the order
-- of equal elements would vary between runs)

local function lt(a, b) return a < b end

local function merge_sort(a, n, less)
  local RUN = 12
  for lo = 1, n, RUN do  -- insertion-sort short runs
    local hi = lo + RUN - 1
    if hi > n then hi = n end
    for i = lo + 1, hi do
      local v = a[i]
      local j = i - 1
      while j >= lo and less(v, a[j]) do
        a[j + 1] = a[j]
        j = j - 1
      end
      a[j + 1] = v
    end
  end
  local src, dst = a, {}
  local width = RUN
  while width < n do
    for lo = 1, n, 2 * width do
      local mid, hi = lo + width - 1, lo + 2 * width - 1
      if mid > n then mid = n end
      if hi > n then hi = n end
      local i, j, k = lo, mid + 1, lo
      while i <= mid and j <= hi do
        local x, y = src[i], src[j]
        if less(y, x) then dst[k] = y; j = j + 1 else dst[k] = x; i = i + 1 end
        k = k + 1
      end
      while i <= mid do dst[k] = src[i]; i = i + 1; k = k + 1 end
      while j <= hi do dst[k] = src[j]; j = j + 1; k = k + 1 end
    end
    src, dst = dst, src
    width = width * 2
  end
  return src
end

local function det_sort(t, cmp)
  if type(t) ~= "table" then error("bad argument #1 to 'sort' (table expected, got " .. type(t) .. ")", 2) end
  if cmp ~= nil and type(cmp) ~= "function" then
    error("bad argument #2 to 'sort' (function expected, got " .. type(cmp) .. ")", 2)
  end
  local n = #t
  if n < 2 then return end
  local a = {}
  for i = 1, n do a[i] = t[i] end
  local sorted = merge_sort(a, n, cmp or lt)
  for i = 1, n do t[i] = sorted[i] end
end

---------------------------------------------------------------------------------------------------
-- math.random: xoshiro256**, reseeded from (process, slot) at each slot

local r0, r1, r2, r3 = 1, 2, 3, 4
local rng_slot, rng_ready = -1, false

local function rotl(x, k) return (x << k) | (x >> (64 - k)) end

local function rnext()
  local s0, s1, s2, s3 = r0, r1, r2, r3
  local res = rotl(s1 * 5, 7) * 9
  local t = s1 << 17
  s2 = s2 ~ s0
  s3 = s3 ~ s1
  s1 = s1 ~ s2
  s0 = s0 ~ s3
  s2 = s2 ~ t
  s3 = rotl(s3, 45)
  r0, r1, r2, r3 = s0, s1, s2, s3
  return res
end

local function splitmix(z)
  z = z + 0x9e3779b97f4a7c15
  local x = z
  x = (x ~ (x >> 30)) * 0xbf58476d1ce4e5b9
  x = (x ~ (x >> 27)) * 0x94d049bb133111eb
  return z, x ~ (x >> 31)
end

local function seed4(a, b)
  local z = a
  z, r0 = splitmix(z)
  z, r1 = splitmix(z ~ b)
  z, r2 = splitmix(z)
  z, r3 = splitmix(z)
  if r0 | r1 | r2 | r3 == 0 then r0 = 1 end
  for _ = 1, 16 do rnext() end
  rng_ready = true
end

local function ready_rng()
  if not rng_ready then seed4(SEED_A ~ (rng_slot * 0x9e3779b97f4a7c15), SEED_B + rng_slot) end
end

local function project(ran, n)  -- uniform in [0, n], n taken as unsigned
  if n & (n + 1) == 0 then return ran & n end
  local lim = n
  lim = lim | (lim >> 1); lim = lim | (lim >> 2); lim = lim | (lim >> 4)
  lim = lim | (lim >> 8); lim = lim | (lim >> 16); lim = lim | (lim >> 32)
  while true do
    ran = ran & lim
    if not ult(n, ran) then return ran end
    ran = rnext()
  end
end

local function check_int(i, v, fname)
  local n = tointeger(v)
  if n == nil then
    if type(v) == "number" or tonumber(v) ~= nil then
      n = tointeger(tonumber(v))
      if n == nil then error("bad argument #" .. i .. " to '" .. fname .. "' (number has no integer representation)", 3) end
    else
      error("bad argument #" .. i .. " to '" .. fname .. "' (number expected, got " .. type(v) .. ")", 3)
    end
  end
  return n
end

local function det_random(...)
  ready_rng()
  local nargs = select("#", ...)
  local rv = rnext()
  if nargs == 0 then return (rv >> 11) * 0x1.0p-53 end
  local low, up
  if nargs == 1 then
    low, up = 1, check_int(1, (...), "random")
  elseif nargs == 2 then
    local a, b = ...
    low, up = check_int(1, a, "random"), check_int(2, b, "random")
  else
    error("wrong number of arguments", 2)
  end
  if low > up then error("bad argument #" .. nargs .. " to 'random' (interval is empty)", 2) end
  return low + project(rv, up - low)
end

local function det_randomseed(x)
  local n = tointeger(x)
  if n == nil then
    local f = tonumber(x)
    if f == nil then error("bad argument #1 to 'randomseed' (number expected, got " .. type(x) .. ")", 2) end
    n = tointeger(f) or sunpack("<i8", spack("<d", f))
  end
  seed4(n, 0)
end

---------------------------------------------------------------------------------------------------
-- os: the slot's block time, UTC only

local block_time = 0

local function days_from_civil(y, m, d)  -- proleptic Gregorian, days since 1970-01-01
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function date_field(t, key, default)
  local v = t[key]
  local n = tointeger(v)
  if n == nil then
    if v ~= nil then error("field '" .. key .. "' is not an integer", 3) end
    if default == nil then error("field '" .. key .. "' missing in date table", 3) end
    return default
  end
  if n > 0x7fffffff or n < -0x7fffffff then error("field '" .. key .. "' is out-of-bound", 3) end
  return n
end

local function det_time(t)
  if t == nil then return block_time end
  if type(t) ~= "table" then error("bad argument #1 to 'time' (table expected, got " .. type(t) .. ")", 2) end
  local year = date_field(t, "year")
  local month = date_field(t, "month")
  local day = date_field(t, "day")
  local hour = date_field(t, "hour", 12)
  local min = date_field(t, "min", 0)
  local sec = date_field(t, "sec", 0)
  local m0 = month - 1
  year = year + m0 // 12
  local days = days_from_civil(year, m0 % 12 + 1, 1) + day - 1
  local r = days * 86400 + hour * 3600 + min * 60 + sec
  -- as C's mktime, normalise the fields of the table
  local ok, norm = raw_pcall(os_date, "!*t", r)
  if ok then
    for _, k in ipairs({"year", "month", "day", "hour", "min", "sec", "wday", "yday"}) do t[k] = norm[k] end
    t.isdst = false
  end
  return r
end

local function det_date(fmt, t)
  if fmt == nil then fmt = "%c" end
  if type(fmt) == "number" then fmt = raw_tostring(fmt) end
  if type(fmt) ~= "string" then error("bad argument #1 to 'date' (string expected, got " .. type(fmt) .. ")", 2) end
  if sbyte(fmt, 1) == 33 then fmt = ssub(fmt, 2) end  -- '!' (always UTC anyway)
  if #fmt >= CHEAP then charge_units(#fmt) end  -- strftime per conversion; %c is 24 bytes out of 2
  if t == nil then t = block_time end
  return OS.date("!" .. fmt, t)
end

local function det_clock()
  return used() / 1e8  -- "seconds" at a nominal 100M instructions per second
end

---------------------------------------------------------------------------------------------------
-- String functions with bounded C work

local ANALYSIS, n_analysis = {}, 0

-- The shape of a pattern for cost estimates: {var, opt, anchored, m}, or false if malformed (the C
-- matcher then raises the error at once). 'var' counts items that can match a variable length
-- (x*, x+, x-, %b, back-references) and 'opt' optional items (x?), except the last item of the
-- pattern: nothing follows it, so it never backtracks.
local function set_end(p, i, m)  -- i at '[': the index after the closing ']', or nil
  i = i + 1
  if sbyte(p, i) == 94 then i = i + 1 end
  repeat
    if i > m then return nil end
    local c = sbyte(p, i)
    i = i + 1
    if c == 37 and i <= m then i = i + 1 end
  until sbyte(p, i) == 93
  return i + 1
end

local function analyze(p)
  local m = #p
  local i, anchored = 1, false
  if sbyte(p, 1) == 94 then anchored, i = true, 2 end
  local items, n = {}, 0
  while i <= m do
    local c = sbyte(p, i)
    if c == 40 then  -- '(' or '()'
      i = i + (sbyte(p, i + 1) == 41 and 2 or 1)
    elseif c == 41 then
      i = i + 1
    elseif c == 36 and i == m then
      n = n + 1; items[n] = 0; i = i + 1
    else
      local nc = c == 37 and sbyte(p, i + 1) or nil
      if c == 37 and nc == nil then return false end
      if nc == 98 then  -- %bxy
        n = n + 1; items[n] = 1; i = i + 4
      elseif nc == 102 then  -- %f[set]
        local e = sbyte(p, i + 2) == 91 and set_end(p, i + 2, m)
        if not e then return false end
        n = n + 1; items[n] = 0; i = e
      elseif nc ~= nil and nc >= 48 and nc <= 57 then  -- back-reference
        n = n + 1; items[n] = 1; i = i + 2
      else
        local e
        if c == 37 then e = i + 2
        elseif c == 91 then
          e = set_end(p, i, m)
          if not e then return false end
        else e = i + 1 end
        local q = sbyte(p, e)
        n = n + 1
        if q == 42 or q == 43 or q == 45 then items[n] = 1; e = e + 1
        elseif q == 63 then items[n] = 2; e = e + 1
        else items[n] = 0 end
        i = e
      end
    end
  end
  local var, opt = 0, 0
  for k = 1, n - 1 do
    if items[k] == 1 then var = var + 1 elseif items[k] == 2 then opt = opt + 1 end
  end
  return {var, opt, anchored, m}
end

-- A bound on the C matcher's steps for pattern p over span bytes (gmatch: never anchored).
local function pattern_cost(p, span, anchor_ok)
  local a = ANALYSIS[p]
  if a == nil then
    a = analyze(p)
    if n_analysis >= 4096 then ANALYSIS, n_analysis = {}, 0 end
    ANALYSIS[p] = a
    n_analysis = n_analysis + 1
  end
  if not a then return 0 end
  local starts = (anchor_ok and a[3]) and 1 or (span + 1)
  return starts * (a[4] + 1) * (span + 1.0) ^ a[1] * 2.0 ^ a[2]
end

local PERR = patterns.ERR
local function relay(ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "table" and rawget(e, PERR) ~= nil then error(rawget(e, PERR), 0) end
  error(e, 0)
end

local function start_index(init, ls)  -- string.find's init as a position, or nil to let C complain
  if init == nil then return 1 end
  local i = tointeger(init)
  if i == nil then return nil end
  if i < 0 then
    i = (-i > ls) and 1 or ls + i + 1
  elseif i == 0 then
    i = 1
  end
  return i
end

local SPECIALS = "[%^%$%*%+%?%.%(%[%%%-]"

local function plain_find_lua(s, p, i)  -- a needle too long for C's memcmp loop to be bounded
  local lp = #p
  local head = ssub(p, 1, 64)
  while true do
    local j = sfind(s, head, i, true)
    if j == nil then return nil end
    charge(lp // 64 + 1)
    if ssub(s, j, j + lp - 1) == p then return j, j + lp - 1 end
    i = j + 1
  end
end

local function charged_find(i0, ls, a, ...)
  local scanned = (a or ls + 1) - i0
  if scanned >= 64 then charge(scanned // 64) end
  return a, ...
end

local function det_find(s, p, init, plain)
  if type(s) ~= "string" or type(p) ~= "string" then return STR.find(s, p, init, plain) end
  local ls = #s
  local i0 = start_index(init, ls)
  if i0 == nil then return STR.find(s, p, init, plain) end
  if i0 > ls + 1 then return nil end
  local span = ls - i0 + 1
  if plain or not sfind(p, SPECIALS) then
    if span * #p <= PLAIN_LIMIT then return charged_find(i0, ls, STR.find(s, p, i0, true)) end
    return plain_find_lua(s, p, i0)
  end
  local cost = pattern_cost(p, span, true)
  if cost <= C_PATTERN_LIMIT then
    if cost > 65536 then check_wall() end
    return charged_find(i0, ls, STR.find(s, p, i0))
  end
  return relay(raw_pcall(patterns.find, s, p, i0, true))
end

local function det_match(s, p, init)
  if type(s) ~= "string" or type(p) ~= "string" then return STR.match(s, p, init) end
  local ls = #s
  local i0 = start_index(init, ls)
  if i0 == nil then return STR.match(s, p, init) end
  if i0 > ls + 1 then return nil end
  local span = ls - i0 + 1
  local cost = pattern_cost(p, span, true)
  if sbyte(p, 1) ~= 94 and span >= 64 then charge(span // 64) end
  if cost <= C_PATTERN_LIMIT then
    if cost > 65536 then check_wall() end
    return STR.match(s, p, i0)
  end
  return relay(raw_pcall(patterns.find, s, p, i0, false))
end

local function det_gmatch(s, p)
  if type(s) ~= "string" or type(p) ~= "string" then return STR.gmatch(s, p) end
  local ls = #s
  if ls >= 64 then charge(ls // 64) end
  local cost = pattern_cost(p, ls, false)
  if cost <= C_PATTERN_LIMIT then
    if cost > 65536 then check_wall() end
    return STR.gmatch(s, p)
  end
  local iter = patterns.gmatch(s, p)
  return function() return relay(raw_pcall(iter)) end
end

local function det_gsub(s, p, repl, max_n)
  local tr = type(repl)
  if type(s) ~= "string" or type(p) ~= "string"
     or (tr ~= "string" and tr ~= "number" and tr ~= "table" and tr ~= "function") then
    return STR.gsub(s, p, repl, max_n)
  end
  local ls = #s
  local mx = ls + 1
  if max_n ~= nil then
    mx = tointeger(max_n)
    if mx == nil then return STR.gsub(s, p, repl, max_n) end
  end
  if ls >= 64 then charge(ls // 64) end
  local cost = pattern_cost(p, ls, true)
  local r, n
  if cost <= C_PATTERN_LIMIT then
    if cost > 65536 then check_wall() end
    r, n = STR.gsub(s, p, repl, max_n)
  else
    if tr == "number" then repl = raw_tostring(repl) end
    r, n = relay(raw_pcall(patterns.gsub, s, p, repl, mx))
  end
  if #r >= CHEAP then charge_units(#r // BYTE_RATE_COPY) end
  if #r > MAX_STRING then too_long("string.gsub", #r) end
  return r, n
end

local function det_rep(s, n, sep)
  local ts = type(s)
  local ls = (ts == "string" and #s) or (ts == "number" and #raw_tostring(s)) or nil
  local count = tointeger(n)
  if ls ~= nil and count ~= nil and count > 0 then
    local lsep = 0
    if sep ~= nil then
      local tp = type(sep)
      lsep = (tp == "string" and #sep) or (tp == "number" and #raw_tostring(sep)) or 0
    end
    local total = ls * 1.0 * count + lsep * 1.0 * (count - 1)
    if total > MAX_STRING then
      error(sfmt("string.rep: a result of %.0f bytes is over the %d-byte limit", total, MAX_STRING), 2)
    end
    if total >= CHEAP then charge_units(tointeger(total // BYTE_RATE_COPY)) end
  end
  return STR.rep(s, n, sep)
end

local function det_format(fmt, ...)
  local n = select("#", ...)
  if n == 0 then return STR.format(fmt) end
  -- '%s' of a table, function or coroutine would print its address: give C our name for it instead
  local args = nil
  for i = 1, n do
    local v = select(i, ...)
    local tv = type(v)
    if tv == "table" or tv == "function" or tv == "thread" or tv == "userdata" then
      if args == nil then args = {...} end
      args[i] = det_tostring(v)
    end
  end
  if n >= CHEAP then charge_units(n) end
  local r
  if args ~= nil then r = STR.format(fmt, tunpack(args, 1, n)) else r = STR.format(fmt, ...) end
  if #r >= CHEAP then charge_units(#r // BYTE_RATE_COPY) end
  if #r > MAX_STRING then too_long("string.format", #r) end
  return r
end

-- Shifting and moving elements is a C loop over the array: charge for it.
local function det_insert(t, ...)
  if select("#", ...) == 2 and type(t) == "table" then
    local pos = tointeger((...))
    if pos ~= nil then
      local shift = rawlen(t) - pos
      if shift >= 64 then charge(shift // 8) end
    end
  end
  return TAB.insert(t, ...)
end

local function det_remove(t, ...)
  if select("#", ...) >= 1 and type(t) == "table" then
    local pos = tointeger((...))
    if pos ~= nil then
      local shift = rawlen(t) - pos
      if shift >= 64 then charge(shift // 8) end
    end
  end
  return TAB.remove(t, ...)
end

local function det_move(a1, f, e, t, a2)
  local fi, ei = tointeger(f), tointeger(e)
  if fi ~= nil and ei ~= nil and ei - fi >= 64 then charge((ei - fi) // 8) end
  return TAB.move(a1, f, e, t, a2)
end

local function det_concat(t, sep, i, j)
  local ii = i == nil and 1 or tointeger(i)
  local jj
  if j == nil then
    if type(t) == "table" then jj = rawlen(t) end
  else
    jj = tointeger(j)
  end
  -- ~30 ns an element: charged before the C loop runs, the bytes after
  if ii ~= nil and jj ~= nil and jj - ii >= 64 then charge_units((jj - ii + 1) * 4) end
  local r = TAB.concat(t, sep, i, j)
  if #r >= CHEAP then charge_units(#r // BYTE_RATE_COPY) end
  if #r > MAX_STRING then too_long("table.concat", #r) end
  return r
end

-- upper/lower/reverse: a pass over every byte into a new string of the same length.
local function mapper(f)
  return function(s, ...)
    if type(s) == "string" then charge_bytes(#s, BYTE_RATE_MAP) end
    return f(s, ...)
  end
end

local sub_c, byte_c, char_c = STR.sub, STR.byte, STR.char

local function det_sub(s, i, j)
  local r = sub_c(s, i, j)
  if #r >= CHEAP then charge_units(#r // BYTE_RATE_COPY) end
  return r
end

local function span(ls, i, j)  -- how many positions s:byte(i, j) / utf8.codepoint(s, i, j) covers
  i = tointeger(i) or 1
  j = tointeger(j) or i
  if i < 0 then i = ls + i + 1 end
  if j < 0 then j = ls + j + 1 end
  if i < 1 then i = 1 end
  if j > ls then j = ls end
  return j - i + 1
end

local function det_byte(s, i, j)
  if type(s) == "string" and j ~= nil then
    local n = span(#s, i, j)
    if n >= CHEAP then charge_units(n) end
  end
  return byte_c(s, i, j)
end

local function det_char(...)
  local n = select("#", ...)
  if n >= CHEAP then charge_units(n) end
  return char_c(...)
end

local unpack_c, pack_c = TAB.unpack, TAB.pack

local function det_unpack(t, i, j)
  local ii = i == nil and 1 or tointeger(i)
  local jj
  if j == nil then
    if type(t) == "table" then jj = rawlen(t) end  -- as C's (without __len, which it would honour)
  else
    jj = tointeger(j)
  end
  if ii ~= nil and jj ~= nil and jj - ii >= CHEAP then charge_units(jj - ii + 1) end
  return unpack_c(t, i, j)
end

local function det_pack(...)
  local n = select("#", ...)
  if n >= CHEAP then charge_units(n) end
  return pack_c(...)
end

local spack_c, sunpack_c = STR.pack, STR.unpack

local function det_spack(fmt, ...)
  if type(fmt) == "string" then charge_bytes(#fmt, 1) end
  local n = select("#", ...)
  if n >= CHEAP then charge_units(n) end
  local r = spack_c(fmt, ...)
  if #r >= CHEAP then charge_units(#r // BYTE_RATE_COPY) end
  return r
end

local function det_sunpack(fmt, s, pos)
  if type(fmt) == "string" then charge_bytes(#fmt, 1) end
  if type(s) == "string" then charge_bytes(#s, BYTE_RATE_COPY) end
  return sunpack_c(fmt, s, pos)
end

local U = utf8
local ucodepoint, uchar, ulen, uoffset = U.codepoint, U.char, U.len, U.offset

local function det_codepoint(s, i, j)
  if type(s) == "string" and j ~= nil then
    local n = span(#s, i, j)
    if n >= CHEAP then charge_units(n) end
  end
  return ucodepoint(s, i, j)
end

local function det_uchar(...)
  local n = select("#", ...)
  if n >= CHEAP then charge_units(n) end
  return uchar(...)
end

local function det_ulen(s, ...)
  if type(s) == "string" then charge_bytes(#s, BYTE_RATE_MAP) end
  return ulen(s, ...)
end

local function det_tonumber(v, ...)
  if type(v) == "string" then charge_bytes(#v, BYTE_RATE_MAP) end  -- scanned (more than once)
  return tonumber(v, ...)
end

local function det_uoffset(s, ...)
  if type(s) == "string" then charge_bytes(#s, BYTE_RATE_SCAN) end
  return uoffset(s, ...)
end

---------------------------------------------------------------------------------------------------
-- Installation

E.string.rep = det_rep
E.string.upper = mapper(STR.upper)
E.string.lower = mapper(STR.lower)
E.string.reverse = mapper(STR.reverse)
E.string.sub = det_sub
E.string.byte = det_byte
E.string.char = det_char
E.string.pack = det_spack
E.string.unpack = det_sunpack
E.table.unpack = det_unpack
E.table.pack = det_pack
E.utf8.codepoint = det_codepoint
E.utf8.char = det_uchar
E.utf8.len = det_ulen
E.utf8.offset = det_uoffset
E.tonumber = det_tonumber
E.string.format = det_format
E.string.find = det_find
E.string.match = det_match
E.string.gmatch = det_gmatch
E.string.gsub = det_gsub
E.table.sort = det_sort
E.table.concat = det_concat
E.table.insert = det_insert
E.table.remove = det_remove
E.table.move = det_move
E.math.random = det_random
E.math.randomseed = det_randomseed
E.os.time = det_time
E.os.date = det_date
E.os.clock = det_clock

sb.on_begin(function(bt, slot)
  block_time = bt
  rng_slot, rng_ready = slot, false
end)

return {}
