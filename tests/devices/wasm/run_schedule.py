"""`python -m tests.devices.wasm.run_schedule MODULE`: compute a fixed schedule on wasm64@1.0 and print
one JSON document of result digests, the final snapshot's digest and fuel-limit errors. The determinism
test runs it in two OS processes and compares the output byte for byte."""

from __future__ import annotations

import json
import sys

from blake3 import blake3

from aonode.devices.base import Limits
from tests.devices.wasm.helpers import Proc

ACTIONS = [
    ("Count", ""), ("Set", "v1"), ("Get", ""), ("Send", "hello"), ("Spawn", "child"), ("Trap", ""),
    ("Count", ""), ("Grow", "256"), ("Print", "out"), ("Fail", ""), ("Count", ""),
]  # fmt: skip


def main(module: str) -> str:
    proc = Proc(module, Limits(instructions=50_000_000))
    device = proc.device()
    digests = [device.compute(proc.slot0, proc.process).digest.hex()]
    for i in range(40):
        action, data = ACTIONS[i % len(ACTIONS)]
        data = data or ("nan" if i % 7 == 0 else f"d{i}")
        digests.append(device.compute(*proc.slot(data, Action=action, Key="k")).digest.hex())
    snap = device.snapshot() or b""
    return json.dumps({"results": digests, "snapshot": blake3(snap).hexdigest(), "memory": len(snap)})


if __name__ == "__main__":
    print(main(sys.argv[1]))
