"""wasm64@1.0 with the WAT modules: the json-iface ABI, limits, traps, snapshots, imports, NaN bits."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from aonode.devices.base import DeviceError, Limits
from aonode.devices.wasm import WasmDevice, iface, runtime
from aonode.ids import encode_id
from aonode.model import Message, Tag
from tests.devices.wasm.helpers import Proc


def _echo(device: WasmDevice, proc: Proc, data: str = "", **tags: str) -> dict[str, object]:
    """The counter module echoes the message and env JSON it was given: read them back from the outbox."""
    asg, msg = proc.slot(data, **tags)
    raw = device._run(asg, msg)
    doc = json.loads(raw)
    assert isinstance(doc, dict)
    return doc


def test_message_and_env_json_shapes() -> None:
    proc = Proc("counter")
    device = proc.device()
    asg, msg = proc.slot("héllo", content_type="text/plain", From_Process="P" * 43, TTL="5")
    doc = json.loads(device._run(asg, msg))
    echo, env = doc["response"]["Echo"], doc["response"]["Env"]
    assert list(echo) == [
        "Id", "Owner", "From", "Target", "Anchor", "Signature", "Tags", "Data", "Module", "Block-Height",
        "Timestamp", "Epoch", "Nonce", "Hash-Chain", "Cron",
    ]  # fmt: skip
    assert echo["Id"] == encode_id(msg.id)
    assert echo["From"] == "P" * 43  # the From-Process tag wins over Owner
    assert echo["Tags"] == [
        {"name": "Content-Type", "value": "text/plain"},
        {"name": "From-Process", "value": "P" * 43},
        {"name": "TTL", "value": "5"},
    ]
    assert echo["Data"] == "héllo"
    assert echo["Module"] == encode_id(proc.module.id)
    assert (echo["Nonce"], echo["Timestamp"], echo["Block-Height"], echo["Cron"]) == (
        asg.slot,
        1_001,
        7,
        False,
    )
    assert echo["Hash-Chain"] == encode_id(asg.hash_chain)
    assert env["Process"]["Id"] == encode_id(proc.pid)
    assert env["Process"]["Tags"][0] == {"name": "Type", "value": "Process"}
    assert env["Module"]["Id"] == encode_id(proc.module.id)


def test_cron_flag_and_header_case() -> None:
    assert iface.header_case("x-reference-id") == "X-Reference-Id"
    raw = iface.message_json(
        Message(tags=(Tag("Cron", "true"),)), module_id="m", slot=3, timestamp=5, block_height=0, epoch=0,
        hash_chain=b"",
    )  # fmt: skip
    assert json.loads(raw)["Cron"] is True


def test_result_mapping() -> None:
    r = iface.parse_result(
        json.dumps(
            {
                "ok": True,
                "response": {
                    "Output": {"data": {"a": 1}, "prompt": "> ", "print": True},
                    "Messages": [
                        {
                            "Target": "T",
                            "Anchor": "1",
                            "Tags": [{"name": "Action", "value": "X"}],
                            "Data": "d",
                        }
                    ],
                    "Spawns": [{"Tags": {"Type": "Process"}, "Data": "s"}],
                    "Assignments": [{"Processes": ["P1", "P2"], "Message": "M"}],
                },
            }
        ).encode()
    )
    assert (r.output.data, r.output.prompt, r.output.print) == ('{"a":1}', "> ", True)
    assert r.messages[0].target == "T" and r.messages[0].tags == (Tag("Action", "X"),)
    assert r.messages[0].data == b"d" and r.messages[0].anchor == "1"
    assert r.spawns[0].tags == (Tag("Type", "Process"),)
    assert r.assignments[0].processes == ("P1", "P2") and r.assignments[0].message == "M"
    assert iface.parse_result(b'{"ok":true,"response":{"Output":"x"}}').output.data == "x"
    assert iface.parse_result(b'{"ok":false,"error":"boom"}').error == "boom"
    assert iface.parse_result(b"not json").error.startswith("JSON error")
    assert iface.parse_result(b'{"ok":true,"response":{"Error":"bad"}}').error == "bad"


def test_state_survives_across_messages() -> None:
    proc = Proc("counter")
    device = proc.device()
    outputs = [device.compute(*proc.slot("x")).output.data for _ in range(5)]
    assert outputs == ["1", "2", "3", "4", "5"]


def test_fuel_limit_is_an_error_result_and_the_process_goes_on() -> None:
    proc = Proc("loop", Limits(instructions=1_000_000))
    device = proc.device()
    result = device.compute(*proc.slot())
    assert "out of fuel" in result.error
    assert not device.last_slot_nondeterministic
    assert "out of fuel" in device.compute(*proc.slot()).error  # the device is still usable
    # the same budget with a real handler: the counter goes on after its own trap
    proc = Proc("counter", Limits(instructions=1_000_000))
    device = proc.device()
    assert device.compute(*proc.slot("a")).output.data == "1"
    assert "trap" in device.compute(*proc.slot("trap")).error
    assert device.compute(*proc.slot("b")).output.data == "2"


def test_wall_clock_backstop_is_marked_nondeterministic() -> None:
    proc = Proc("loop", Limits(instructions=10**15, wall_seconds=0.1))
    device = proc.device()
    result = device.compute(*proc.slot())
    assert result.error == "wall-clock limit exceeded"
    assert device.last_slot_nondeterministic


def test_memory_limit_is_an_error_result() -> None:
    proc = Proc("grow", Limits(memory_bytes=4 * 1024 * 1024))
    device = proc.device()
    result = device.compute(*proc.slot())
    assert result.error.startswith("memory limit exceeded")
    assert device.memory_bytes() < 8 * 1024 * 1024
    assert device.compute(*proc.slot()).error.startswith("memory limit exceeded")


def test_initial_memory_over_the_limit_fails_at_init() -> None:
    proc = Proc("counter", Limits(memory_bytes=65536))
    with pytest.raises(DeviceError, match="cannot be instantiated"):
        proc.device()


def test_trap_restores_the_last_good_state() -> None:
    proc = Proc("counter", settings={"checkpoint_every": 3})
    device = proc.device()
    for i in range(1, 8):  # crosses two checkpoints, so recovery replays a log
        assert device.compute(*proc.slot("x")).output.data == str(i)
    result = device.compute(*proc.slot("trap"))
    assert result.error == "wasm trap: wasm `unreachable` instruction executed"
    assert device.compute(*proc.slot("y")).output.data == "8"


def test_a_trap_before_the_first_checkpoint_goes_back_to_the_initial_state() -> None:
    """`init` keeps no copy of the initial memory: recovery initialises again and replays the good slots."""
    proc = Proc("counter")
    device = proc.device()
    assert device.memory_bytes() == device._require().memory.size()  # no checkpoint copy held
    assert device.compute(*proc.slot("trap")).error  # the very first slot
    assert device.compute(*proc.slot("x")).output.data == "1"
    assert device.compute(*proc.slot("x")).output.data == "2"
    assert device.compute(*proc.slot("trap")).error
    assert device.compute(*proc.slot("y")).output.data == "3"


def test_unknown_import_is_refused_at_init() -> None:
    with pytest.raises(DeviceError, match=r"env\.launch_missiles"):
        Proc("unknown_import").device()


def test_snapshot_restore_round_trip() -> None:
    proc = Proc("counter")
    a = proc.device()
    for _ in range(3):
        a.compute(*proc.slot("x"))
    snap = a.snapshot()
    assert snap is not None and snap.endswith(b"AOWM\x01")
    (mem_len,) = struct.unpack_from("<Q", snap, len(snap) - 13)
    assert mem_len % 65536 == 0
    b = WasmDevice()
    b.init(proc.context)
    b.restore(snap)
    rest = [proc.slot(f"m{i}") for i in range(4)]
    ra = [a.compute(*s) for s in rest]
    rb = [b.compute(*s) for s in rest]
    assert [r.output.data for r in ra] == ["4", "5", "6", "7"]
    assert [r.digest for r in ra] == [r.digest for r in rb]
    assert a.snapshot() == b.snapshot()
    with pytest.raises(DeviceError):
        b.restore(b"junk")


@pytest.mark.parametrize("piece", [65536, 7, 13, 64 * 1024 + 5, 10**9])
def test_restore_from_pieces_is_restore_from_the_joined_bytes(piece: int) -> None:
    """The engine restores from the store's pages without joining them; any cut of the snapshot into
    pieces (the end record and the globals split across pieces too) gives the same state, and a trap after
    such a restore goes back to it."""
    proc = Proc("counter", settings={"checkpoint_every": 1000})
    a = proc.device()
    for _ in range(3):
        a.compute(*proc.slot("x"))
    snap = a.snapshot()
    assert snap is not None
    pieces = [snap[i : i + piece] for i in range(0, len(snap), piece)]
    b = WasmDevice()
    b.init(proc.context)
    b.restore_chunks(pieces)
    assert b.snapshot() == snap
    assert dict(b._require().globals)["mutable_marker"].value(b._require().store) == 3
    rest = [proc.slot(d) for d in ("m", "trap", "n")]
    ra = [a.compute(*s) for s in rest]
    rb = [b.compute(*s) for s in rest]
    assert [r.output.data for r in rb] == ["4", "", "5"] and rb[1].error
    assert [r.digest for r in ra] == [r.digest for r in rb]
    with pytest.raises(DeviceError):
        b.restore_chunks([snap[:-1]])
    with pytest.raises(DeviceError):
        b.restore_chunks([snap[:10], snap[20:]])


def test_exported_mutable_globals_are_in_the_snapshot() -> None:
    proc = Proc("counter")
    a = proc.device()
    for _ in range(2):
        a.compute(*proc.slot("x"))
    snap = a.snapshot()
    assert snap is not None and b"mutable_marker" in snap
    b = WasmDevice()
    b.init(proc.context)
    b.restore(snap)
    inst = b._require()
    assert dict(inst.globals)["mutable_marker"].value(inst.store) == 2


def test_nan_is_canonical() -> None:
    proc = Proc("counter")
    device = proc.device()
    device.compute(*proc.slot("nan"))
    assert device._require().memory.read(16, 4) == struct.pack("<I", 0x7FC00000)


def test_wasi32_stdout_and_deterministic_clock() -> None:
    proc = Proc("wasi32")
    device = proc.device()
    result = device.compute(*proc.slot())
    # clock_time_get answered errno 1 and left the byte at its out-pointer untouched ("x")
    assert result.output.data == "1x"
    assert device.last_stdout == b"hi\n"


def test_compiled_modules_are_cached_on_disk(tmp_path: Path) -> None:
    runtime.clear_module_cache()
    proc = Proc("counter", settings={"cache_dir": str(tmp_path)})
    proc.device()
    files = list(tmp_path.glob("*.cwasm"))
    assert len(files) == 1 and files[0].stem == runtime.module_digest(proc.module.data).hex()
    runtime.clear_module_cache()
    device = proc.device()  # loads the artifact
    assert device.compute(*proc.slot()).output.data == "1"
