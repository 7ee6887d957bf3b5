-- crypto: digests, HMAC and PBKDF2 with the API of AOS's `.crypto` (`crypto.digest.sha2_256(s).asHex()`,
-- `crypto.mac.createHmac(data, key, "sha256")`, `crypto.kdf.pbkdf2(...)`, `crypto.utils.hex`,
-- `crypto.utils.stream` ...). Our own implementations of the published algorithms (FIPS 180-4, FIPS 202,
-- RFC 1321, RFC 7693, RFC 2104, RFC 8018), in plain Lua 5.3 integer arithmetic: deterministic, and
-- every step is counted by the instruction budget, so no host function is needed.
--
-- Inputs: a string, a byte array, or a stream (a function returning one byte per call, then nil, as
-- crypto.utils.stream.fromString gives). Results: a table with asBytes(), asHex(), asString().
-- Not provided: the ciphers (AES, ISAAC, MORUS, NORX), crypto.random, md2 and md4 (docs/runtime.md).

local type, error, assert, ipairs, tostring, tonumber = type, error, assert, ipairs, tostring, tonumber
local byte, char, format, rep, sub, concat = string.byte, string.char, string.format, string.rep,
  string.sub, table.concat
local spack, sunpack = string.pack, string.unpack

local M32 = 0xffffffff

local function input_string(data)
  local t = type(data)
  if t == "string" then
    return data
  elseif t == "function" then
    local out, n = {}, 0
    for b in data do
      n = n + 1
      out[n] = char(b)
    end
    return concat(out)
  elseif t == "table" then
    local out = {}
    for i, b in ipairs(data) do
      out[i] = char(b)
    end
    return concat(out)
  elseif t == "number" then
    return tostring(data)
  end
  error("crypto: expected a string, a byte array or a stream, got " .. t, 3)
end

local function to_hex(s)
  return (s:gsub(".", function(c) return format("%02x", byte(c)) end))
end

local function from_hex(h)
  return (h:gsub("%X", ""):gsub("%x%x", function(x) return char(tonumber(x, 16)) end))
end

local function to_bytes(s)
  local out = {}
  for i = 1, #s do
    out[i] = byte(s, i)
  end
  return out
end

local function result(s)
  return {
    asString = function() return s end,
    asHex = function() return to_hex(s) end,
    asBytes = function() return to_bytes(s) end,
  }
end

-------------------------------------------------------------------------------
-- SHA-256 (FIPS 180-4)
-------------------------------------------------------------------------------
local K256 = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function rotr32(x, n)
  return ((x >> n) | (x << (32 - n))) & M32
end

-- Merkle-Damgard padding: message, 0x80, zeros, then the bit length (big-endian, `lenbytes` bytes).
local function md_pad(s, block, lenbytes, little)
  local bitlen = #s * 8
  local zeros = (block - (#s + 1 + lenbytes) % block) % block
  local len
  if little then
    len = spack("<I8", bitlen) .. rep("\0", lenbytes - 8)
  else
    len = rep("\0", lenbytes - 8) .. spack(">I8", bitlen)
  end
  return s .. "\128" .. rep("\0", zeros) .. len
end

local function sha256(data)
  local s = md_pad(input_string(data), 64, 8)
  local h0, h1, h2, h3, h4, h5, h6, h7 = 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
    0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  local w = {}
  for pos = 1, #s, 64 do
    for i = 1, 16 do
      w[i] = sunpack(">I4", s, pos + (i - 1) * 4)
    end
    for i = 17, 64 do
      local a, b = w[i - 15], w[i - 2]
      local s0 = rotr32(a, 7) ~ rotr32(a, 18) ~ (a >> 3)
      local s1 = rotr32(b, 17) ~ rotr32(b, 19) ~ (b >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    end
    local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
    for i = 1, 64 do
      local S1 = rotr32(e, 6) ~ rotr32(e, 11) ~ rotr32(e, 25)
      local ch = (e & f) ~ ((~e) & g)
      local t1 = (h + S1 + ch + K256[i] + w[i]) & M32
      local S0 = rotr32(a, 2) ~ rotr32(a, 13) ~ rotr32(a, 22)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = (S0 + maj) & M32
      h, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
    end
    h0, h1, h2, h3 = (h0 + a) & M32, (h1 + b) & M32, (h2 + c) & M32, (h3 + d) & M32
    h4, h5, h6, h7 = (h4 + e) & M32, (h5 + f) & M32, (h6 + g) & M32, (h7 + h) & M32
  end
  return spack(">I4I4I4I4I4I4I4I4", h0, h1, h2, h3, h4, h5, h6, h7)
end

-------------------------------------------------------------------------------
-- SHA-512 (FIPS 180-4): 64-bit words are Lua integers (wrapping addition, logical >>)
-------------------------------------------------------------------------------
local K512 = {
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
  0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
  0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
  0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
  0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
  0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
  0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
  0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
  0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
  0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
  0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
  0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
  0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
  0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
  0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
  0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
  0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
}

local function rotr64(x, n)
  return (x >> n) | (x << (64 - n))
end

local function sha512(data)
  local s = md_pad(input_string(data), 128, 16)
  local H = {
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
  }
  local w = {}
  for pos = 1, #s, 128 do
    for i = 1, 16 do
      w[i] = sunpack(">i8", s, pos + (i - 1) * 8)
    end
    for i = 17, 80 do
      local a, b = w[i - 15], w[i - 2]
      local s0 = rotr64(a, 1) ~ rotr64(a, 8) ~ (a >> 7)
      local s1 = rotr64(b, 19) ~ rotr64(b, 61) ~ (b >> 6)
      w[i] = w[i - 16] + s0 + w[i - 7] + s1
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for i = 1, 80 do
      local S1 = rotr64(e, 14) ~ rotr64(e, 18) ~ rotr64(e, 41)
      local ch = (e & f) ~ ((~e) & g)
      local t1 = h + S1 + ch + K512[i] + w[i]
      local S0 = rotr64(a, 28) ~ rotr64(a, 34) ~ rotr64(a, 39)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      h, g, f, e, d, c, b, a = g, f, e, d + t1, c, b, a, t1 + S0 + maj
    end
    H[1], H[2], H[3], H[4] = H[1] + a, H[2] + b, H[3] + c, H[4] + d
    H[5], H[6], H[7], H[8] = H[5] + e, H[6] + f, H[7] + g, H[8] + h
  end
  return spack(">i8i8i8i8i8i8i8i8", H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8])
end

-------------------------------------------------------------------------------
-- SHA-1 (FIPS 180-4) and MD5 (RFC 1321)
-------------------------------------------------------------------------------
local function rotl32(x, n)
  return ((x << n) | (x >> (32 - n))) & M32
end

local function sha1(data)
  local s = md_pad(input_string(data), 64, 8)
  local h0, h1, h2, h3, h4 = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0
  local w = {}
  for pos = 1, #s, 64 do
    for i = 1, 16 do
      w[i] = sunpack(">I4", s, pos + (i - 1) * 4)
    end
    for i = 17, 80 do
      w[i] = rotl32(w[i - 3] ~ w[i - 8] ~ w[i - 14] ~ w[i - 16], 1)
    end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 1, 80 do
      local f, k
      if i <= 20 then
        f, k = (b & c) | ((~b) & d), 0x5a827999
      elseif i <= 40 then
        f, k = b ~ c ~ d, 0x6ed9eba1
      elseif i <= 60 then
        f, k = (b & c) | (b & d) | (c & d), 0x8f1bbcdc
      else
        f, k = b ~ c ~ d, 0xca62c1d6
      end
      local t = (rotl32(a, 5) + (f & M32) + e + k + w[i]) & M32
      e, d, c, b, a = d, c, rotl32(b, 30), a, t
    end
    h0, h1, h2 = (h0 + a) & M32, (h1 + b) & M32, (h2 + c) & M32
    h3, h4 = (h3 + d) & M32, (h4 + e) & M32
  end
  return spack(">I4I4I4I4I4", h0, h1, h2, h3, h4)
end

local MD5_S = {
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
}
local MD5_K = {}
for i = 1, 64 do
  -- floor(abs(sin(i)) * 2^32), as RFC 1321 defines the table (exact in IEEE doubles)
  MD5_K[i] = math.floor(math.abs(math.sin(i)) * 4294967296.0)
end

local function md5(data)
  local s = md_pad(input_string(data), 64, 8, true)
  local a0, b0, c0, d0 = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
  local m = {}
  for pos = 1, #s, 64 do
    for i = 0, 15 do
      m[i] = sunpack("<I4", s, pos + i * 4)
    end
    local a, b, c, d = a0, b0, c0, d0
    for i = 0, 63 do
      local f, g
      if i < 16 then
        f, g = (b & c) | ((~b) & d), i
      elseif i < 32 then
        f, g = (d & b) | ((~d) & c), (5 * i + 1) % 16
      elseif i < 48 then
        f, g = b ~ c ~ d, (3 * i + 5) % 16
      else
        f, g = c ~ (b | ((~d) & M32)), (7 * i) % 16
      end
      f = (f + a + MD5_K[i + 1] + m[g]) & M32
      a, d, c = d, c, b
      b = (b + rotl32(f, MD5_S[i + 1])) & M32
    end
    a0, b0, c0, d0 = (a0 + a) & M32, (b0 + b) & M32, (c0 + c) & M32, (d0 + d) & M32
  end
  return spack("<I4I4I4I4", a0, b0, c0, d0)
end

-------------------------------------------------------------------------------
-- Keccak-f[1600] (FIPS 202): SHA3-256/512 (domain 0x06) and Keccak-256/512 (0x01)
-------------------------------------------------------------------------------
local RC = {
  0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
  0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
  0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
  0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
  0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
  0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}
local ROT = {
  [0] = 0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
}

local function rotl64(x, n)
  if n == 0 then
    return x
  end
  return (x << n) | (x >> (64 - n))
end

local function keccak_f(A)
  local C, D, B = {}, {}, {}
  for round = 1, 24 do
    for x = 0, 4 do
      C[x] = A[x] ~ A[x + 5] ~ A[x + 10] ~ A[x + 15] ~ A[x + 20]
    end
    for x = 0, 4 do
      D[x] = C[(x + 4) % 5] ~ rotl64(C[(x + 1) % 5], 1)
    end
    for i = 0, 24 do
      A[i] = A[i] ~ D[i % 5]
    end
    for x = 0, 4 do
      for y = 0, 4 do
        local i = x + 5 * y
        B[y + 5 * ((2 * x + 3 * y) % 5)] = rotl64(A[i], ROT[i])
      end
    end
    for y = 0, 4 do
      local r = 5 * y
      for x = 0, 4 do
        A[r + x] = B[r + x] ~ ((~B[r + (x + 1) % 5]) & B[r + (x + 2) % 5])
      end
    end
    A[0] = A[0] ~ RC[round]
  end
end

local function keccak(data, rate, outlen, domain)
  local s = input_string(data)
  local pad = rate - (#s % rate)
  if pad == 1 then
    s = s .. char(domain | 0x80)
  else
    s = s .. char(domain) .. rep("\0", pad - 2) .. "\128"
  end
  local A = {}
  for i = 0, 24 do
    A[i] = 0
  end
  local lanes = rate // 8
  for pos = 1, #s, rate do
    for i = 0, lanes - 1 do
      A[i] = A[i] ~ sunpack("<i8", s, pos + i * 8)
    end
    keccak_f(A)
  end
  local out = {}
  for i = 0, outlen // 8 - 1 do
    out[#out + 1] = spack("<i8", A[i])
  end
  return concat(out)
end

-------------------------------------------------------------------------------
-- BLAKE2b (RFC 7693)
-------------------------------------------------------------------------------
local B2_IV = {
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}
local SIGMA = {
  { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
  { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
  { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
  { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
  { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
  { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
  { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
  { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
  { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
  { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
}

local function blake2b(data, outlen, key)
  local s = input_string(data)
  outlen = outlen or 64
  key = key or ""
  assert(outlen >= 1 and outlen <= 64, "blake2b: outlen must be 1..64")
  assert(#key <= 64, "blake2b: key must be at most 64 bytes")
  local h = {}
  for i = 1, 8 do
    h[i] = B2_IV[i]
  end
  h[1] = h[1] ~ 0x01010000 ~ (#key << 8) ~ outlen
  if #key > 0 then
    s = key .. rep("\0", 128 - #key) .. s
  end
  local v, m = {}, {}
  local function G(a, b, c, d, x, y)
    v[a] = v[a] + v[b] + x
    v[d] = rotr64(v[d] ~ v[a], 32)
    v[c] = v[c] + v[d]
    v[b] = rotr64(v[b] ~ v[c], 24)
    v[a] = v[a] + v[b] + y
    v[d] = rotr64(v[d] ~ v[a], 16)
    v[c] = v[c] + v[d]
    v[b] = rotr64(v[b] ~ v[c], 63)
  end
  local function compress(block, counter, last)
    for i = 0, 15 do
      m[i] = sunpack("<i8", block, 1 + i * 8)
    end
    for i = 1, 8 do
      v[i - 1] = h[i]
      v[i + 7] = B2_IV[i]
    end
    v[12] = v[12] ~ counter
    if last then
      v[14] = ~v[14]
    end
    for r = 0, 11 do
      local sg = SIGMA[r % 10 + 1]
      G(0, 4, 8, 12, m[sg[1]], m[sg[2]])
      G(1, 5, 9, 13, m[sg[3]], m[sg[4]])
      G(2, 6, 10, 14, m[sg[5]], m[sg[6]])
      G(3, 7, 11, 15, m[sg[7]], m[sg[8]])
      G(0, 5, 10, 15, m[sg[9]], m[sg[10]])
      G(1, 6, 11, 12, m[sg[11]], m[sg[12]])
      G(2, 7, 8, 13, m[sg[13]], m[sg[14]])
      G(3, 4, 9, 14, m[sg[15]], m[sg[16]])
    end
    for i = 1, 8 do
      h[i] = h[i] ~ v[i - 1] ~ v[i + 7]
    end
  end
  local len = #s
  local pos = 1
  while len - pos + 1 > 128 do
    compress(sub(s, pos, pos + 127), pos + 127, false)
    pos = pos + 128
  end
  local rest = sub(s, pos)
  compress(rest .. rep("\0", 128 - #rest), len, true)
  local out = {}
  for i = 1, 8 do
    out[i] = spack("<i8", h[i])
  end
  return sub(concat(out), 1, outlen)
end

-------------------------------------------------------------------------------
-- the API
-------------------------------------------------------------------------------
local digest = { _version = "aonode-1" }
digest.sha1 = function(d) return result(sha1(d)) end
digest.md5 = function(d) return result(md5(d)) end
digest.sha2_256 = function(d) return result(sha256(d)) end
digest.sha2_512 = function(d) return result(sha512(d)) end
digest.sha3_256 = function(d) return result(keccak(d, 136, 32, 0x06)) end
digest.sha3_512 = function(d) return result(keccak(d, 72, 64, 0x06)) end
digest.keccak256 = function(d) return result(keccak(d, 136, 32, 0x01)) end
digest.keccak512 = function(d) return result(keccak(d, 72, 64, 0x01)) end
digest.blake2b = function(d, outlen, key) return result(blake2b(d, outlen, key and input_string(key))) end

local RAW = {
  sha1 = { fn = sha1, block = 64 },
  md5 = { fn = md5, block = 64 },
  sha256 = { fn = sha256, block = 64 },
  sha2_256 = { fn = sha256, block = 64 },
  sha512 = { fn = sha512, block = 128 },
  sha2_512 = { fn = sha512, block = 128 },
}

local function hmac_raw(data, key, algorithm)
  local alg = RAW[algorithm or "sha256"]
  if alg == nil then
    error("crypto: unsupported HMAC algorithm " .. tostring(algorithm), 3)
  end
  local k = input_string(key)
  if #k > alg.block then
    k = alg.fn(k)
  end
  k = k .. rep("\0", alg.block - #k)
  local ipad = k:gsub(".", function(c) return char(byte(c) ~ 0x36) end)
  local opad = k:gsub(".", function(c) return char(byte(c) ~ 0x5c) end)
  return alg.fn(opad .. alg.fn(ipad .. input_string(data)))
end

local mac = { _version = "aonode-1" }
--- HMAC of data with key; algorithm "sha256" (default), "sha1", "md5", "sha512".
function mac.createHmac(data, key, algorithm)
  return result(hmac_raw(data, key, algorithm))
end

local kdf = { _version = "aonode-1" }
--- PBKDF2 (RFC 8018) with HMAC-`digest` ("sha256" by default); keyLen in bytes.
function kdf.pbkdf2(password, salt, iterations, keyLen, digestName)
  iterations = iterations or 1000
  keyLen = keyLen or 32
  local alg = digestName or "sha256"
  local pw, st = input_string(password), input_string(salt)
  local out, block = {}, 1
  local have = 0
  while have < keyLen do
    local u = hmac_raw(st .. spack(">I4", block), pw, alg)
    local t = { byte(u, 1, -1) }
    for _ = 2, iterations do
      u = hmac_raw(u, pw, alg)
      for j = 1, #t do
        t[j] = t[j] ~ byte(u, j)
      end
    end
    local piece = char(table.unpack(t))
    out[#out + 1] = piece
    have = have + #piece
    block = block + 1
  end
  return result(sub(concat(out), 1, keyLen))
end

local stream = {}
--- A stream of the bytes of s (a function returning one byte per call, then nil).
function stream.fromString(s)
  local i = 0
  return function()
    i = i + 1
    if i <= #s then
      return byte(s, i)
    end
    return nil
  end
end
function stream.fromArray(a)
  local i = 0
  return function()
    i = i + 1
    return a[i]
  end
end
function stream.fromHex(h)
  return stream.fromString(from_hex(h))
end
function stream.toString(st)
  return input_string(st)
end
function stream.toArray(st)
  return to_bytes(input_string(st))
end
function stream.toHex(st)
  return to_hex(input_string(st))
end

local hex = {
  stringToHex = to_hex,
  hexToString = from_hex,
}

local array = {
  fromString = to_bytes,
  toString = function(a) return input_string(a) end,
  fromHex = function(h) return to_bytes(from_hex(h)) end,
  toHex = function(a) return to_hex(input_string(a)) end,
}

local crypto = {
  _version = "aonode-1",
  digest = digest,
  mac = mac,
  kdf = kdf,
  utils = { stream = stream, hex = hex, array = array },
}

return crypto
