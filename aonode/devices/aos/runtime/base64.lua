-- base64: encode/decode with the API of AOS's `.base64` (encode(s[, encoder]), decode(s[, decoder]),
-- makeencoder(c62, c63, pad), makedecoder(c62, c63, pad)). Our own implementation. The default
-- alphabet is RFC 4648's (+, /, = padding); `makeencoder("-", "_")` gives the URL-safe one. Decoding
-- skips characters outside the alphabet, as AOS's does.

local type, error, assert = type, error, assert
local byte, char, sub, concat = string.byte, string.char, string.sub, table.concat

local base64 = { _version = "aonode-1" }

local LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

--- An encoder: a table index (0..64) -> character code; [64] is the padding.
function base64.makeencoder(c62, c63, pad)
  local enc = {}
  for i = 1, 62 do
    enc[i - 1] = byte(LETTERS, i)
  end
  enc[62] = byte(c62 or "+")
  enc[63] = byte(c63 or "/")
  enc[64] = byte(pad or "=")
  return enc
end

--- A decoder: a table character code -> index (0..63).
function base64.makedecoder(c62, c63, pad)
  local dec = {}
  for i, code in pairs(base64.makeencoder(c62, c63, pad)) do
    if i < 64 then
      dec[code] = i
    end
  end
  return dec
end

local DEFAULT_ENCODER = base64.makeencoder()
local DEFAULT_DECODER = base64.makedecoder()

function base64.encode(s, encoder)
  assert(type(s) == "string", "base64.encode: a string is required")
  local enc = encoder or DEFAULT_ENCODER
  local out, n = {}, 0
  local len = #s
  for i = 1, len - 2, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = (a << 16) | (b << 8) | c
    n = n + 1
    out[n] = char(enc[(v >> 18) & 63], enc[(v >> 12) & 63], enc[(v >> 6) & 63], enc[v & 63])
  end
  local rest = len % 3
  if rest == 2 then
    local a, b = byte(s, len - 1, len)
    local v = (a << 16) | (b << 8)
    n = n + 1
    out[n] = char(enc[(v >> 18) & 63], enc[(v >> 12) & 63], enc[(v >> 6) & 63], enc[64])
  elseif rest == 1 then
    local v = byte(s, len) << 16
    n = n + 1
    out[n] = char(enc[(v >> 18) & 63], enc[(v >> 12) & 63], enc[64], enc[64])
  end
  return concat(out)
end

function base64.decode(s, decoder)
  assert(type(s) == "string", "base64.decode: a string is required")
  local dec = decoder or DEFAULT_DECODER
  local out, n = {}, 0
  local acc, bits = 0, 0
  for i = 1, #s do
    local v = dec[byte(s, i)]
    if v ~= nil then
      acc = ((acc << 6) | v) & 0xffffff
      bits = bits + 6
      if bits >= 8 then
        bits = bits - 8
        n = n + 1
        out[n] = char((acc >> bits) & 0xff)
      end
    end
  end
  return concat(out)
end

return base64
