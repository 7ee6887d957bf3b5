"""`aonode bench compute`: the compute engine on the built-in AOS runtime, against the bare Lua floor.

A node runs in its own process on a temp dir. For each case, N messages are scheduled first (not timed),
then one `Now` call computes them all (timed: it includes reading the schedule, running each slot,
storing each result and hashpath durably). Figures, each the median of `runs` runs:
(a) `eval`: `Action=Eval` of small expressions, slots/s;
(b) `transfer`: a token-transfer handler (examples/token.lua) updating a balances table and replying;
(c) `cold_replay`: after a node restart, computing one new slot of a 10,000-slot process, which rebuilds
    the Lua state by replaying the schedule, slots/s;
(d) `floor`: the messages of (b) fed straight to a Lua device loaded with the same runtime, in this
    process, without the engine (no schedule reads, no storage, no RPC).
Ratio `engine_vs_floor` = (b) / (d). Each floor run follows its transfer run, so both see the machine in
the same state.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from aonode.bench import Report
from aonode.client import NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer, Signer
from aonode.devices.aos import runtime_module
from aonode.devices.base import ProcessContext
from aonode.devices.lua import LuaDevice
from aonode.ids import ProcessId, encode_id
from aonode.model import Assignment, Message
from aonode.testing import LocalNode

N = 5_000
REPLAY = 10_000


def token_source() -> str:
    return resources.files("aonode.devices.aos").joinpath("examples/token.lua").read_text(encoding="utf-8")


def _spawn(client: NodeClient, signer: Signer) -> str:
    process = build_process(
        signer, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
    )
    client.schedule(process)
    return encode_id(process.id)


def _transfers(signer: Signer, process: str, count: int) -> list[Message]:
    recipient = encode_id(b"r" * 32)
    tags = [("Recipient", recipient), ("Quantity", "1")]
    return [build_message(signer, process, action="Transfer", tags=tags) for _ in range(count)]


def _timed_now(client: NodeClient, process: str) -> tuple[float, int]:
    start = time.perf_counter()
    computed = client.now(process)
    return time.perf_counter() - start, computed.slot


def _schedule_all(client: NodeClient, messages: list[Message]) -> None:
    for outcome in client.schedule_stream(messages, frame=200):
        if not isinstance(outcome, Assignment):
            raise RuntimeError(f"scheduling failed: {outcome}")


def bench_compute(runs: int, say: Callable[[str], None]) -> Report:
    report = Report("compute")
    signer = Ed25519Signer.generate()
    with tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp:
        node = LocalNode(Path(tmp) / "node").start()
        try:
            with NodeClient(node.address, timeout=600) as client:
                evals = _spawn(client, signer)
                tokens = _spawn(client, signer)
                _schedule_all(
                    client, [build_message(signer, tokens, action="Eval", data=token_source().encode())]
                )
                client.now(evals)
                client.now(tokens)
                for run in range(runs):
                    say(f"run {run + 1}/{runs}: eval")
                    exprs = [f"return {i} + {i}" for i in range(N)]
                    _schedule_all(
                        client, [build_message(signer, evals, action="Eval", data=e.encode()) for e in exprs]
                    )
                    elapsed, _ = _timed_now(client, evals)
                    report.add("eval", N / elapsed, "slots/s")
                    say(f"run {run + 1}/{runs}: transfer")
                    _schedule_all(client, _transfers(signer, tokens, N))
                    elapsed, _ = _timed_now(client, tokens)
                    report.add("transfer", N / elapsed, "slots/s")
                    # The floor right after its engine run (the node idles meanwhile): a shared machine's
                    # speed drifts between minutes, and a ratio of figures taken far apart measures that.
                    say(f"run {run + 1}/{runs}: floor (device only)")
                    report.add("floor", _floor(signer), "slots/s")
                have = client.get_slot(tokens).current_slot
                if have < REPLAY:
                    say(f"filling the token process to {REPLAY:,} slots")
                    _schedule_all(client, _transfers(signer, tokens, REPLAY - have))
                    client.now(tokens)
            for run in range(runs):
                say(f"run {run + 1}/{runs}: cold replay after restart")
                node.stop()
                node.start()
                with NodeClient(node.address, timeout=600) as client:
                    _schedule_all(client, _transfers(signer, tokens, 1))
                    elapsed, slot = _timed_now(client, tokens)
                report.add("cold_replay", slot / elapsed, "slots/s")
        finally:
            node.stop()
    report.ratio("engine_vs_floor", "transfer", "floor")
    return report


def _floor(signer: Signer) -> float:
    """The transfer messages through a bare Lua device with the runtime and the token handler loaded."""
    process = build_process(signer, module=encode_id(runtime_module().id), scheduler="", device="lua@5.3a")
    pid = ProcessId(process.id)
    zero = Assignment(process=pid, slot=0, message=process.id, timestamp=1, hash_chain=b"\0" * 32)
    device = LuaDevice()
    device.init(ProcessContext(pid, process, zero, runtime_module()))
    device.compute(zero, process)
    token = build_message(signer, encode_id(pid), action="Eval", data=token_source().encode())
    device.compute(Assignment(pid, 1, token.id, 2, hash_chain=b"\0" * 32), token)
    slots = [
        (Assignment(pid, i + 2, m.id, 3 + i, hash_chain=b"\0" * 32), m)
        for i, m in enumerate(_transfers(signer, encode_id(pid), N))
    ]
    start = time.perf_counter()
    for assignment, message in slots:
        result = device.compute(assignment, message)
        if result.error:
            raise RuntimeError(f"floor: slot {assignment.slot}: {result.error}")
    elapsed = time.perf_counter() - start
    device.close()
    return N / elapsed
