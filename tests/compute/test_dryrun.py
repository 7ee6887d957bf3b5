"""Dryrun: evaluated against the latest state as slot tip+1, never scheduled or stored, and invisible to the
next real slot (its result equals that of a twin schedule that had no dryrun)."""

from __future__ import annotations

import pytest

from aonode.crypto import SignatureError
from aonode.devices.base import DeviceError
from aonode.errors import InvalidArgument, NotFound
from aonode.ids import encode_id
from aonode.model import Message, Signature, Tag
from store import ObjectStore
from tests.compute import fakes
from tests.compute.fakes import FakeDevice, SnapDevice
from tests.compute.helpers import engine, message, process_message, run, scheduler, send, spawn, twin

DATAS = ["a", "b", "patch", "c"]


def _unsigned(pid: bytes, data: str) -> Message:
    return Message(target=encode_id(pid), tags=(Tag("Action", "Dry"),), data=data.encode())


@pytest.mark.parametrize("device", [FakeDevice.name, SnapDevice.name])
def test_dryrun_leaves_no_trace(mem: ObjectStore, device: str) -> None:
    sched = scheduler(mem)
    proc = process_message(device)
    pid = run(spawn(sched, proc, DATAS))
    eng = engine(mem, sched)
    try:
        run(eng.compute(pid, 2))
        dry = run(eng.dryrun(_unsigned(pid, "dry")))
        # Evaluated as slot 5 on the state after slot 4 (the engine computed up to the tip first).
        assert dry.output.data.startswith("5:6:")
        assert eng.stored_head(pid) == 4
        assert eng.stored_result(pid, 5) is None
        assert sched.head(pid).slot == 4
        assert eng.has_worker(pid) == (device == SnapDevice.name)
        assert run(eng.dryrun(_unsigned(pid, "dry"))) == dry  # the same state again
        assert run(eng.dryrun(message(pid, "dry"))).output.data.startswith("5:6:")  # signed works too
        run(send(sched, pid, ["real"], 50))
        real = run(eng.now(pid))
        assert real.slot == 5 and real.result.output.data.startswith("5:6:")
        mine = [eng.stored_result(pid, s) for s in range(6)]
    finally:
        eng.close()
    assert [(m.result_digest, m.hashpath) for m in mine if m] == twin(proc, [DATAS, ["real"]], [1, 50])


def test_dryrun_on_a_snapshot_device_restores_instead_of_replaying(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(SnapDevice.name), ["a", "b"]))
    eng = engine(mem, sched)
    try:
        run(eng.now(pid))
        run(eng.dryrun(_unsigned(pid, "x")))
        run(eng.dryrun(_unsigned(pid, "y")))
        assert SnapDevice.restores[-2:] == [3, 3]
        assert eng.stats()["verified"] == 0 and eng.stats()["dryruns"] == 2
    finally:
        eng.close()


def test_dryrun_on_other_devices_discards_the_worker_and_the_next_compute_replays(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(), ["a", "b"]))
    eng = engine(mem, sched)
    try:
        run(eng.now(pid))
        run(eng.dryrun(_unsigned(pid, "x")))
        assert not eng.has_worker(pid)
        run(send(sched, pid, ["c"], 10))
        run(eng.now(pid))
        assert eng.stats()["verified"] == 3  # slots 0..2 recomputed and compared with the stored results
        assert fakes.CALLS[(pid, 3)] == 2  # the dryrun, then the real slot 3
    finally:
        eng.close()


def test_dryrun_errors(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(), ["a"]))
    eng = engine(mem, sched)
    try:
        with pytest.raises(NotFound):
            run(eng.dryrun(_unsigned(bytes(32), "x")))
        with pytest.raises(InvalidArgument):
            run(eng.dryrun(Message(target="not-an-id", data=b"x")))
        signed = message(pid, "x")
        assert signed.signature is not None
        forged = signed.with_signature(Signature(signed.signature.scheme, signed.signature.owner, bytes(64)))
        with pytest.raises(SignatureError):
            run(eng.dryrun(forged))
        with pytest.raises(DeviceError):
            run(eng.dryrun(_unsigned(pid, "crash")))
        assert not eng.has_worker(pid)
        assert eng.stored_head(pid) == 1 and eng.stored_result(pid, 2) is None
        error = run(eng.dryrun(_unsigned(pid, "error")))
        assert error.error == "boom at slot 2"
    finally:
        eng.close()
