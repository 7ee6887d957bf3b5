-- chance: the Mersenne Twister (MT19937, Matsumoto and Nishimura's published algorithm) with the API
-- of AOS's `.chance`: seed(n), random() in [0, 1), integer(min, max) inclusive. Our own code. The
-- process's math.random is built on it (see process.lua), seeded once as AOS seeds it, so a process's
-- sequence of random numbers depends only on its messages.

local assert, floor = assert, math.floor

local N, M = 624, 397
local MATRIX_A, UPPER, LOWER = 0x9908b0df, 0x80000000, 0x7fffffff

local state = { mt = {}, index = N + 1 }

local chance = { _version = "aonode-1" }

function chance.seed(seed)
  local mt = state.mt
  local s = math.tointeger(seed) or math.tointeger(floor(seed % 4294967296.0))
  assert(s ~= nil, "seed must be a number")
  mt[0] = s & 0xffffffff
  for i = 1, N - 1 do
    local prev = mt[i - 1]
    mt[i] = (1812433253 * (prev ~ (prev >> 30)) + i) & 0xffffffff
  end
  state.index = N
end

local function twist()
  local mt = state.mt
  for k = 0, N - 1 do
    local y = (mt[k] & UPPER) | (mt[(k + 1) % N] & LOWER)
    local v = mt[(k + M) % N] ~ (y >> 1)
    if (y & 1) == 1 then
      v = v ~ MATRIX_A
    end
    mt[k] = v
  end
  state.index = 0
end

local function next_u32()
  if state.index >= N then
    if state.index == N + 1 then
      chance.seed(5489)
    end
    twist()
  end
  local y = state.mt[state.index]
  state.index = state.index + 1
  y = y ~ (y >> 11)
  y = y ~ ((y << 7) & 0x9d2c5680)
  y = y ~ ((y << 15) & 0xefc60000)
  y = y ~ (y >> 18)
  return y
end
chance.int32 = next_u32

--- A float in [0, 1).
function chance.random()
  return next_u32() * (1.0 / 4294967296.0)
end

--- An integer in [min, max], both included.
function chance.integer(min, max)
  assert(max >= min, "max must bigger than min")
  return floor(chance.random() * (max - min + 1) + min)
end

return chance
