"""Run the AOS runtime's libraries (.bint, .crypto, .base64, .chance/math.random, json floats) on a fixed
schedule through the lua@5.3a device and print one result digest per slot. Run by test_determinism.py
in separate OS processes with different PYTHONHASHSEED."""

from __future__ import annotations

import sys

from aonode.codec import encode_result
from aonode.crypto import Ed25519Signer
from tests.devices.aos.conftest import Proc

PROGRAM = r"""
local bint = require('.bint')(256)
local crypto = require('.crypto')
local base64 = require('.base64')
Acc = Acc or bint(1)
Handlers.add('lib', 'Lib', function(msg)
  Acc = (Acc * bint(msg.Data) + bint(math.random(1, 1000000))) % bint.ipow(bint(2), bint(200))
  local t = {}
  for k in pairs({[msg.Data] = 1, a = 2, b = 3, [tostring(Acc)] = 4}) do t[#t + 1] = k end
  print(tostring(Acc), crypto.digest.sha3_256(tostring(Acc)).asHex(),
    crypto.digest.blake2b(msg.Data, 16).asHex(), base64.encode(tostring(Acc)),
    json.encode({f = math.random(), x = tonumber(msg.Data) / 7}),
    table.concat(t, ','), os.time())
end)
"""


def main(slots: int) -> None:
    p = Proc(owner=Ed25519Signer.from_private_bytes(b"d" * 32))
    p.ok(PROGRAM)
    for i in range(slots):
        r = p.send([("Action", "Lib")], str(i * 7919 + 13))
        print(encode_result(r).hex()[:64] if not r.error else "error:" + r.error)
    p.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
