"""kill -9 in the middle of an asynchronous push, restart: the node resumes it under its ID, and every outbox
message is delivered exactly once; pushing the root again delivers nothing (a node in a subprocess,
aonode.testing.LocalNode)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from aonode.client import NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.testing import LocalNode
from tests.compute.lua_helpers import needs_lua

pytestmark = needs_lua

USER = Ed25519Signer.generate()
FANOUT = 200

BURST = """
Handlers.add("burst", "Burst", function(msg)
  for i = 1, tonumber(msg.Data) do Send({Target = ao.id, Action = "Noop", N = tostring(i)}) end
end)
Handlers.add("noop", "Noop", function(msg) print("noop " .. msg.N) end)
"""


def test_kill_during_push_then_resume(tmp_path: Path) -> None:
    data = tmp_path / "node"
    data.mkdir()
    node = LocalNode(data).start()
    try:
        with NodeClient(node.address, timeout=60) as client:
            address = client.info().address
            process = build_process(
                USER,
                module=encode_id(runtime_module().id),
                scheduler=address,
                device="lua@5.3a",
                tags=[("Authority", address), ("On-Boot", "Data")],
                data=BURST.encode(),
            )
            client.schedule(process)
            pid = encode_id(process.id)
            slot = client.schedule(build_message(USER, pid, action="Burst", data=str(FANOUT).encode())).slot
            started = client.push(pid, slot, async_=True)
            deadline = time.monotonic() + 30
            while client.get_slot(pid).current_slot < slot + 20 and time.monotonic() < deadline:
                time.sleep(0.005)
            before = client.get_push(started.push_id)
        node.kill()
        assert before.state == "running", "the push finished before the kill; nothing was interrupted"
        node = LocalNode(data, port=node.port).start()
        with NodeClient(node.address, timeout=60) as client:
            # The node resumed the recorded push by itself, under the same ID.
            deadline = time.monotonic() + 60
            while (resumed := client.get_push(started.push_id)).state == "running":
                assert time.monotonic() < deadline, "the interrupted push was not resumed"
                time.sleep(0.02)
            assert resumed.state == "done", resumed.error
            assert client.get_slot(pid).current_slot == slot + FANOUT
            report = client.push(pid, slot, result_depth=0)  # and pushing the root again adds nothing
            assert report.state == "done" and report.delivered == 0 and report.existing == FANOUT
            page = client.get_schedule(pid, from_slot=slot + 1, include_messages=True)
            indexes: Counter[str] = Counter()
            for message in page.messages:
                assert message.tag("From-Process") == pid and message.tag("From-Slot") == str(slot)
                indexes[message.tag("Outbox-Index") or ""] += 1
            assert indexes == Counter({str(i): 1 for i in range(FANOUT)})
    finally:
        node.stop()
