"""Run a fixed schedule through a LuaDevice and print one digest per slot (then one of the final state).

Run by test_determinism.py as `python -m tests.devices.lua.determinism_child N` in separate OS processes
with different PYTHONHASHSEED: C Lua seeds its string hash from addresses and time, ASLR moves every
table, so anything the device failed to make deterministic shows up as a differing line.
"""

from __future__ import annotations

import json
import sys

from blake3 import blake3

from aonode.codec import encode_result
from aonode.crypto import Ed25519Signer, sign_message
from aonode.devices.base import Limits
from aonode.model import Message, Tag
from tests.devices.lua.helpers import LuaProc

MODULE = r"""
Objects = {}
local json_like = {}

local function show(v)
  if type(v) == 'table' then return 'tbl' end
  return tostring(v)
end

function compute(base, req, opts)
  local slot = req.slot
  local out = {}
  -- pairs and next over number, string, boolean and table keys
  local t = {10, 20, 30, alpha = 1, beta = 2, [3.5] = 'f', [-1] = 'neg', [true] = 'T', [false] = 'F',
             gamma = {}}
  for i = 1, slot % 7 do t['k' .. (slot * i % 13)] = i end
  for k, v in pairs(t) do out[#out + 1] = tostring(k) .. '=' .. show(v) end
  local k1 = next(t)
  local k2 = next(t, k1)
  out[#out + 1] = 'next ' .. tostring(k1) .. ',' .. tostring(k2)
  local set = {}
  for i = 1, 60 do set['key' .. ((i * (slot + 3)) % 97)] = i end
  local ks = {}
  for k in pairs(set) do ks[#ks + 1] = k end
  out[#out + 1] = table.concat(ks, ',')
  -- tables, functions and coroutines as keys
  Objects[#Objects + 1] = setmetatable({n = slot}, {})
  local tk = {[print] = 'print', [coroutine.create(function() end)] = 'co'}
  for i = math.max(1, #Objects - 3), #Objects do tk[Objects[i]] = i end
  tk[{}] = 'fresh'
  tk[{1, 2}] = 'fresh2'
  for k, v in pairs(tk) do out[#out + 1] = tostring(k) .. '>' .. tostring(v) end
  -- table.sort with ties, with and without a comparator, short and long
  local arr = {}
  for i = 1, 40 + slot % 200 do arr[i] = {k = (i * 7 + slot) % 5, i = i} end
  table.sort(arr, function(a, b) return a.k < b.k end)
  local order = {}
  for i, e in ipairs(arr) do order[i] = e.i end
  out[#out + 1] = table.concat(order, ' ')
  local nums = {}
  for i = 1, 300 do nums[i] = (i * 37 + slot) % 50 end
  table.sort(nums, function(a, b) return a > b end)
  out[#out + 1] = table.concat(nums, ' ', 1, 20)
  local words = {'pear', 'Apple', 'fig', 'apple', 'Fig', 'kiwi'}
  table.sort(words)
  out[#out + 1] = table.concat(words, ' ')
  -- randomness, time, names of objects, the collector
  out[#out + 1] = string.format('%.17g %d %d', math.random(), math.random(100), math.random(-5, 5))
  if slot % 5 == 0 then math.randomseed(slot) out[#out + 1] = tostring(math.random(1000)) end
  out[#out + 1] = os.time() .. ' ' .. os.date('%Y-%m-%d %H:%M:%S %A') .. ' ' .. os.date() .. ' '
    .. os.time({year = 2024, month = slot % 14, day = 31 + slot % 3, hour = slot % 30}) .. ' ' .. os.clock()
  out[#out + 1] = tostring({}) .. ' ' .. tostring(print) .. ' ' .. tostring(coroutine.create(print))
    .. ' ' .. string.format('%s|%s', {}, coroutine.running())
  out[#out + 1] = tostring(collectgarbage('count')) .. ' ' .. tostring(collectgarbage())
  local weak = setmetatable({}, {__mode = 'k'})
  for i = 1, 10 do weak[{}] = i end
  for i = 1, 2000 do local garbage = {i} end
  local n = 0
  for _ in pairs(weak) do n = n + 1 end
  out[#out + 1] = 'weak ' .. n
  -- errors, caught and not
  local ok, err = pcall(function() local x = nil return x.field end)
  out[#out + 1] = tostring(ok) .. ' ' .. err
  if slot % 9 == 0 then error('failing at ' .. slot) end
  if slot % 11 == 0 then error({code = slot}) end
  if slot % 13 == 0 then
    error(setmetatable({}, {__tostring = function(e) return 'object error ' .. slot end}))
  end
  if slot % 17 == 0 then while true do end end
  json_like[#json_like + 1] = {slot = slot, r = math.random(1000), f = slot / 7}
  if #json_like > 20 then table.remove(json_like, 1) end
  base.last = slot
  base.results = {
    output = {data = table.concat(out, '\n'), prompt = 'det> '},
    outbox = {
      {target = 'T', data = {list = json_like, map = {b = 1, a = 2, [5] = 'five'}}, Slot = slot,
       tags = {{name = 'R', value = math.random(1e9)}, {name = 'F', value = slot / 3}}},
    },
  }
  return base
end
"""


def main(n: int) -> None:
    signer = Ed25519Signer.from_private_bytes(b"d" * 32)
    p = LuaProc(MODULE, tags=[("Name", "determinism")], signer=signer, limits=Limits(instructions=2_000_000))
    lines = []
    for i in range(n):
        m = sign_message(
            Message(target=p.id, anchor=f"{i:08d}", tags=(Tag("Action", "Run"), Tag("I", str(i))), data=b"x"),
            signer,
        )
        r = p.send(m)
        lines.append(blake3(encode_result(r)).hexdigest())
    state = json.dumps(p.device.read_state(""), sort_keys=True)
    lines.append(blake3(state.encode()).hexdigest())
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]))
