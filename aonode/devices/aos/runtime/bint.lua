-- bint: fixed-width two's-complement big integers with the API AOS programs use from `.bint`
-- (`local bint = require('.bint')(256)`). Our own implementation (written for aonode, not copied from
-- lua-bint): a value is a table of `bits / 32` limbs of 32 bits, least significant first, with the
-- class table as metatable. Arithmetic wraps at `bits` as lua-bint's does. A number operand that is
-- an integer (or a float with an integral value) is converted; an operation with a non-integral float
-- falls back to float arithmetic, as in lua-bint.
--
-- Everything is plain Lua integer arithmetic, so the instruction budget counts it (no host function);
-- the cost grows with the width (a 256-bit multiply is 64 limb products, a division 256 shift-subtract
-- steps).

local type, setmetatable, getmetatable, tostring, tonumber, error, assert, rawequal =
  type, setmetatable, getmetatable, tostring, tonumber, error, assert, rawequal
local mtype, floor, tointeger = math.type, math.floor, math.tointeger
local concat, byte, sub, lower, format, rep = table.concat, string.byte, string.sub, string.lower,
  string.format, string.rep

local MASK = 0xffffffff
local classes = {}

local function newclass(bits)
  bits = bits or 256
  assert(mtype(bits) == "integer" and bits >= 64 and bits % 32 == 0, "bit size must be a multiple of 32 and >= 64")
  if classes[bits] then
    return classes[bits]
  end
  local W = bits // 32
  local bint = { bits = bits }
  bint.__index = bint
  classes[bits] = bint

  local function raw()
    return setmetatable({}, bint)
  end

  local function isbint(x)
    return getmetatable(x) == bint
  end
  bint.isbint = isbint

  function bint.zero()
    local r = raw()
    for i = 1, W do
      r[i] = 0
    end
    return r
  end

  function bint.one()
    local r = bint.zero()
    r[1] = 1
    return r
  end

  local function copy(x)
    local r = raw()
    for i = 1, W do
      r[i] = x[i]
    end
    return r
  end

  local function isneg(x)
    return (x[W] >> 31) == 1
  end

  local function negate_inplace(x)
    local carry = 1
    for i = 1, W do
      local v = ((~x[i]) & MASK) + carry
      x[i] = v & MASK
      carry = v >> 32
    end
    return x
  end

  function bint.fromuinteger(n)
    n = tointeger(n)
    if n == nil then
      return nil
    end
    local r = bint.zero()
    r[1] = n & MASK
    r[2] = (n >> 32) & MASK
    return r
  end

  function bint.frominteger(n)
    if mtype(n) == "float" then
      if n ~= n or n == math.huge or n == -math.huge or floor(n) ~= n then
        return nil
      end
      local i = tointeger(n)
      if i == nil then -- an integral float beyond 2^63: take its 32-bit digits exactly
        local neg = n < 0
        if neg then
          n = -n
        end
        local r = bint.zero()
        local k = 1
        while n > 0 and k <= W do
          local d = n % 4294967296.0
          r[k] = tointeger(d)
          n = (n - d) / 4294967296.0
          k = k + 1
        end
        return neg and negate_inplace(r) or r
      end
      n = i
    end
    if mtype(n) ~= "integer" then
      return nil
    end
    local r = bint.fromuinteger(n)
    if n < 0 then
      for i = 3, W do
        r[i] = MASK
      end
    end
    return r
  end

  local function mul_small_add(x, m, a)
    local carry = a
    for i = 1, W do
      local v = x[i] * m + carry
      x[i] = v & MASK
      carry = v >> 32
    end
  end

  function bint.fromstring(s)
    if type(s) ~= "string" then
      return nil
    end
    local str = lower((s:gsub("^%s+", ""):gsub("%s+$", "")))
    local neg = false
    local c = sub(str, 1, 1)
    if c == "-" or c == "+" then
      neg = c == "-"
      str = sub(str, 2)
    end
    local base = 10
    if sub(str, 1, 2) == "0x" then
      base, str = 16, sub(str, 3)
    elseif sub(str, 1, 2) == "0b" then
      base, str = 2, sub(str, 3)
    end
    if str == "" then
      return nil
    end
    local r = bint.zero()
    for i = 1, #str do
      local d = tonumber(sub(str, i, i), 36)
      if d == nil or d >= base then
        return nil
      end
      mul_small_add(r, base, d)
    end
    return neg and negate_inplace(r) or r
  end

  function bint.fromvalue(x)
    if isbint(x) then
      return x
    end
    local t = type(x)
    if t == "number" then
      return bint.frominteger(x)
    elseif t == "string" then
      return bint.fromstring(x)
    elseif t == "table" and type(x.bits) == "number" and getmetatable(x) and getmetatable(x).__index == getmetatable(x) then
      -- a bint of another width: convert through its string
      return bint.fromstring(tostring(x))
    end
    return nil
  end

  function bint.new(x)
    if isbint(x) then
      return copy(x)
    end
    local r = bint.fromvalue(x)
    if r == nil then
      error("value cannot be represented by a bint", 2)
    end
    return r
  end

  local function tobint(x, clone)
    if isbint(x) then
      return clone and copy(x) or x
    end
    return bint.fromvalue(x)
  end
  bint.tobint = function(x, clone)
    return tobint(x, clone)
  end
  function bint.parse(x)
    return tobint(x, true) or tonumber(x)
  end

  function bint.maxinteger()
    local r = bint.zero()
    for i = 1, W do
      r[i] = MASK
    end
    r[W] = 0x7fffffff
    return r
  end

  function bint.mininteger()
    local r = bint.zero()
    r[W] = 0x80000000
    return r
  end

  function bint.iszero(x)
    for i = 1, W do
      if x[i] ~= 0 then
        return false
      end
    end
    return true
  end
  function bint.isone(x)
    if x[1] ~= 1 then
      return false
    end
    for i = 2, W do
      if x[i] ~= 0 then
        return false
      end
    end
    return true
  end
  function bint.isminusone(x)
    for i = 1, W do
      if x[i] ~= MASK then
        return false
      end
    end
    return true
  end
  function bint.isneg(x)
    x = tobint(x)
    return isneg(x)
  end
  function bint.ispos(x)
    x = tobint(x)
    return not isneg(x) and not bint.iszero(x)
  end
  function bint.iseven(x)
    return (tobint(x)[1] & 1) == 0
  end
  function bint.isodd(x)
    return (tobint(x)[1] & 1) == 1
  end
  function bint.isintegral(x)
    return isbint(x) or mtype(x) == "integer"
  end
  function bint.isnumeric(x)
    return isbint(x) or type(x) == "number"
  end

  -- unsigned compare: -1, 0, 1
  local function ucmp(a, b)
    for i = W, 1, -1 do
      local x, y = a[i], b[i]
      if x ~= y then
        return x < y and -1 or 1
      end
    end
    return 0
  end

  local function scmp(a, b)
    local na, nb = isneg(a), isneg(b)
    if na ~= nb then
      return na and -1 or 1
    end
    return ucmp(a, b)
  end

  local function add(a, b)
    local r, carry = raw(), 0
    for i = 1, W do
      local v = a[i] + b[i] + carry
      r[i] = v & MASK
      carry = v >> 32
    end
    return r
  end

  local function subtract(a, b)
    local r, borrow = raw(), 0
    for i = 1, W do
      local v = a[i] - b[i] - borrow
      if v < 0 then
        v = v + 0x100000000
        borrow = 1
      else
        borrow = 0
      end
      r[i] = v
    end
    return r
  end

  local function multiply(a, b)
    local r = {}
    for i = 1, W do
      r[i] = 0
    end
    for i = 1, W do
      local ai = a[i]
      if ai ~= 0 then
        local carry = 0
        for j = 1, W - i + 1 do
          local k = i + j - 1
          -- ai * b[j] < 2^64; with two 32-bit addends it still fits 64 bits (wrapping as unsigned)
          local v = ai * b[j] + r[k] + carry
          r[k] = v & MASK
          carry = v >> 32
        end
      end
    end
    return setmetatable(r, bint)
  end

  local function shl1_or(x, bit)
    local carry = bit
    for i = 1, W do
      local v = (x[i] << 1) | carry
      carry = (x[i] >> 31) & 1
      x[i] = v & MASK
    end
  end

  -- unsigned division: quotient, remainder
  local function udivmod(a, b)
    if bint.iszero(b) then
      error("attempt to divide by zero", 3)
    end
    local q, r = bint.zero(), bint.zero()
    local top = W
    while top > 0 and a[top] == 0 do
      top = top - 1
    end
    for i = top, 1, -1 do
      local limb = a[i]
      for bitpos = 31, 0, -1 do
        shl1_or(r, (limb >> bitpos) & 1)
        shl1_or(q, 0)
        if ucmp(r, b) >= 0 then
          r = subtract(r, b)
          q[1] = q[1] | 1
        end
      end
    end
    return q, r
  end

  local function abs(x)
    if isneg(x) then
      return negate_inplace(copy(x))
    end
    return x
  end

  -- truncated division (quotient rounds toward zero)
  local function tdivmod(a, b)
    local q, r = udivmod(abs(a), abs(b))
    if isneg(a) ~= isneg(b) then
      negate_inplace(q)
    end
    if isneg(a) then
      negate_inplace(r)
    end
    return q, r
  end

  -- floored division (Lua's // and %)
  local function fdivmod(a, b)
    local q, r = tdivmod(a, b)
    if not bint.iszero(r) and isneg(r) ~= isneg(b) then
      q = subtract(q, bint.one())
      r = add(r, b)
    end
    return q, r
  end

  local function small_divmod(x, d)
    -- x unsigned, d < 2^31: divides x in place, returns the remainder
    local rem = 0
    for i = W, 1, -1 do
      local cur = (rem << 32) | x[i]
      x[i] = cur // d
      rem = cur % d
    end
    return rem
  end

  function bint.tobase(x, base, unsigned)
    x = tobint(x)
    if x == nil then
      return nil
    end
    base = base or 10
    if unsigned == nil then
      unsigned = base ~= 10
    end
    local neg = not unsigned and isneg(x)
    local v = neg and negate_inplace(copy(x)) or copy(x)
    if bint.iszero(v) then
      return "0"
    end
    local digits, n = {}, 0
    local alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    while not bint.iszero(v) do
      local d = small_divmod(v, base)
      n = n + 1
      digits[n] = sub(alphabet, d + 1, d + 1)
    end
    local out = {}
    for i = n, 1, -1 do
      out[#out + 1] = digits[i]
    end
    return (neg and "-" or "") .. concat(out)
  end

  function bint.touinteger(x)
    x = tobint(x)
    return x[1] | (x[2] << 32)
  end

  function bint.tointeger(x)
    x = tobint(x)
    return x[1] | (x[2] << 32)
  end

  function bint.tonumber(x)
    x = tobint(x)
    if x == nil then
      return nil
    end
    local neg = isneg(x)
    local v = neg and negate_inplace(copy(x)) or x
    local n = 0.0
    for i = W, 1, -1 do
      n = n * 4294967296.0 + v[i]
    end
    if neg then
      n = -n
    end
    local i = tointeger(n)
    if i ~= nil and (i < (1 << 53) and i > -(1 << 53)) then
      return i
    end
    return n
  end

  bint.tostring = function(x)
    return bint.tobase(x, 10)
  end
  bint.__tostring = function(x)
    return bint.tobase(x, 10)
  end

  -- Binary operators: both operands converted; a non-integral number makes it float arithmetic.
  local function binop(name, fn, floatfn)
    bint[name] = function(a, b)
      local x, y = tobint(a), tobint(b)
      if x == nil or y == nil then
        local fa, fb = isbint(a) and bint.tonumber(a) or tonumber(a), isbint(b) and bint.tonumber(b) or tonumber(b)
        if floatfn and type(fa) == "number" and type(fb) == "number" then
          return floatfn(fa, fb)
        end
        error("attempt to perform arithmetic on a " .. type(x == nil and a or b) .. " value", 2)
      end
      return fn(x, y)
    end
  end

  binop("__add", add, function(a, b) return a + b end)
  binop("__sub", subtract, function(a, b) return a - b end)
  binop("__mul", multiply, function(a, b) return a * b end)
  binop("__idiv", function(a, b) return (fdivmod(a, b)) end, function(a, b) return a // b end)
  binop("__mod", function(a, b)
    local _, r = fdivmod(a, b)
    return r
  end, function(a, b) return a % b end)
  bint.__div = function(a, b)
    local fa = isbint(a) and bint.tonumber(a) or tonumber(a)
    local fb = isbint(b) and bint.tonumber(b) or tonumber(b)
    return fa / fb
  end
  bint.__pow = function(a, b)
    local fa = isbint(a) and bint.tonumber(a) or tonumber(a)
    local fb = isbint(b) and bint.tonumber(b) or tonumber(b)
    return fa ^ fb
  end
  bint.__unm = function(a)
    return negate_inplace(copy(tobint(a)))
  end
  binop("__band", function(a, b)
    local r = raw()
    for i = 1, W do r[i] = a[i] & b[i] end
    return r
  end)
  binop("__bor", function(a, b)
    local r = raw()
    for i = 1, W do r[i] = a[i] | b[i] end
    return r
  end)
  binop("__bxor", function(a, b)
    local r = raw()
    for i = 1, W do r[i] = a[i] ~ b[i] end
    return r
  end)
  bint.__bnot = function(a)
    a = tobint(a)
    local r = raw()
    for i = 1, W do r[i] = (~a[i]) & MASK end
    return r
  end

  local function shift_left(x, n)
    if n < 0 then
      return nil
    end
    local r = bint.zero()
    if n >= bits then
      return r
    end
    local limbs, b = n // 32, n % 32
    for i = W, limbs + 1, -1 do
      local v = (x[i - limbs] << b) & MASK
      if b > 0 and i - limbs - 1 >= 1 then
        v = v | (x[i - limbs - 1] >> (32 - b))
      end
      r[i] = v
    end
    return r
  end

  local function shift_right(x, n)
    local r = bint.zero()
    if n >= bits then
      return r
    end
    local limbs, b = n // 32, n % 32
    for i = 1, W - limbs do
      local v = x[i + limbs] >> b
      if b > 0 and i + limbs + 1 <= W then
        v = v | ((x[i + limbs + 1] << (32 - b)) & MASK)
      end
      r[i] = v
    end
    return r
  end

  bint.__shl = function(a, n)
    a, n = tobint(a), tointeger(isbint(n) and bint.tointeger(n) or n)
    if n < 0 then
      return shift_right(a, -n)
    end
    return shift_left(a, n)
  end
  bint.__shr = function(a, n)
    a, n = tobint(a), tointeger(isbint(n) and bint.tointeger(n) or n)
    if n < 0 then
      return shift_left(a, -n)
    end
    return shift_right(a, n)
  end

  -- Comparisons: mixed bint/number compares by value (a non-integral float compares as a float).
  local function compare(a, b)
    local x, y = tobint(a), tobint(b)
    if x == nil or y == nil then
      local fa = isbint(a) and bint.tonumber(a) or a
      local fb = isbint(b) and bint.tonumber(b) or b
      if fa < fb then return -1 elseif fa > fb then return 1 end
      return 0
    end
    return scmp(x, y)
  end
  bint.__eq = function(a, b)
    local x, y = tobint(a), tobint(b)
    if x == nil or y == nil then
      return false
    end
    return ucmp(x, y) == 0
  end
  bint.__lt = function(a, b)
    return compare(a, b) < 0
  end
  bint.__le = function(a, b)
    return compare(a, b) <= 0
  end
  bint.eq = function(a, b)
    return bint.__eq(a, b)
  end
  bint.ult = function(a, b)
    return ucmp(tobint(a), tobint(b)) < 0
  end
  bint.ule = function(a, b)
    return ucmp(tobint(a), tobint(b)) <= 0
  end

  function bint.abs(x)
    return copy(abs(tobint(x)))
  end
  function bint.max(a, b)
    return compare(a, b) >= 0 and bint.new(a) or bint.new(b)
  end
  function bint.min(a, b)
    return compare(a, b) <= 0 and bint.new(a) or bint.new(b)
  end
  function bint.udivmod(a, b)
    return udivmod(tobint(a), tobint(b))
  end
  function bint.udiv(a, b)
    return (udivmod(tobint(a), tobint(b)))
  end
  function bint.umod(a, b)
    local _, r = udivmod(tobint(a), tobint(b))
    return r
  end
  function bint.tdivmod(a, b)
    return tdivmod(tobint(a), tobint(b))
  end
  function bint.tdiv(a, b)
    return (tdivmod(tobint(a), tobint(b)))
  end
  function bint.tmod(a, b)
    local _, r = tdivmod(tobint(a), tobint(b))
    return r
  end
  function bint.idivmod(a, b)
    return fdivmod(tobint(a), tobint(b))
  end
  function bint.ediv(a, b)
    return (fdivmod(tobint(a), tobint(b)))
  end
  function bint.emod(a, b)
    local _, r = fdivmod(tobint(a), tobint(b))
    return r
  end
  --- Integer power (exponent >= 0; wraps at the width).
  function bint.ipow(x, y)
    local base, e = copy(tobint(x)), tobint(y, true)
    assert(not isneg(e), "exponent must be non-negative")
    local result = bint.one()
    while not bint.iszero(e) do
      if (e[1] & 1) == 1 then
        result = multiply(result, base)
      end
      base = multiply(base, base)
      e = shift_right(e, 1)
    end
    return result
  end
  function bint.upowmod(x, y, m)
    local base, e, mod = tobint(x), tobint(y, true), tobint(m)
    local _, b = udivmod(base, mod)
    local result = bint.one()
    while not bint.iszero(e) do
      if (e[1] & 1) == 1 then
        local _, r = udivmod(multiply(result, b), mod)
        result = r
      end
      local _, r2 = udivmod(multiply(b, b), mod)
      b = r2
      e = shift_right(e, 1)
    end
    return result
  end
  function bint.inc(x)
    return add(tobint(x), bint.one())
  end
  function bint.dec(x)
    return subtract(tobint(x), bint.one())
  end
  function bint.type(x)
    if isbint(x) then
      return "bint"
    end
    return mtype(x)
  end
  function bint.__len()
    return bits
  end
  bint.__concat = function(a, b)
    return tostring(a) .. tostring(b)
  end

  return setmetatable(bint, {
    __call = function(_, x)
      return bint.new(x)
    end,
  })
end

return setmetatable({ _version = "aonode-1", new = newclass }, {
  __call = function(_, bits)
    return newclass(bits)
  end,
})
