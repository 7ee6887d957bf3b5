"""The device with AO format features, on WAT modules (no fixture needed): slot 0's Process message gets the
process's own ID as Target, a metered module reports GasUsed and stops with "out of gas!" at its
Compute-Limit, and WeaveDrive reads the store through the process context."""

from __future__ import annotations

import json
from dataclasses import replace

import wasmtime

from aonode.codec import encode_result
from aonode.devices.base import Limits
from aonode.devices.wasm import WasmDevice
from aonode.ids import encode_id
from aonode.model import Message, Tag
from tests.devices.wasm.helpers import Proc


def test_slot0_process_message_is_addressed_to_the_process() -> None:
    proc = Proc("counter")
    device = proc.device()
    doc = json.loads(device._run(proc.slot0, proc.process))
    assert doc["response"]["Echo"]["Target"] == encode_id(proc.pid)
    asg, msg = proc.slot("x")  # a later message keeps its own (empty) Target
    assert json.loads(device._run(asg, msg))["response"]["Echo"]["Target"] == ""


# A wasm32 json-iface module metered as @permaweb/wasm-metering does: usegas(n) per block. handle spends
# `len(msg) * 1000` gas in a loop of usegas(1000) (gas runs ahead of
# wasmtime fuel, as with real metered binaries: the metered fixture's slot 0 is 6.6e9 gas, 1.3e8 fuel)
# and answers {"ok":true,"response":{"Output":"ok"}}.
METERED = """
(module
  (import "metering" "usegas" (func $usegas (param i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "{\\"ok\\":true,\\"response\\":{\\"Output\\":\\"ok\\"}}\\00")
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "handle") (param $msg i32) (param $env i32) (result i32)
    (local $i i32)
    (global.set $heap (i32.const 4096))
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $msg) (local.get $i)))))
      (call $usegas (i32.const 1000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.const 16)))
"""


def metered_proc(limit: str | None) -> Proc:
    proc = Proc("counter", Limits(instructions=int(limit) if limit else 100_000_000))
    tags = [Tag("Module-Format", "wasm32-unknown-emscripten-metering")]
    if limit:
        tags.append(Tag("Compute-Limit", limit))
    proc.module = Message(tags=tuple(tags), data=bytes(wasmtime.wat2wasm(METERED)))
    proc.context = replace(proc.context, module=proc.module)
    return proc


def test_a_metered_module_reports_gas_used_and_runs_out_of_gas_at_its_limit() -> None:
    proc = metered_proc("10000000")
    device = proc.device()
    assert device.format == "wasm32-unknown-emscripten-metering"
    asg, msg = proc.slot("small")
    result = device.compute(asg, msg)
    assert result.output.data == "ok"
    assert result.gas_used == 1000 * _msg_len(device, asg, msg)  # GasUsed: the usegas total
    assert device.last_gas_used == result.gas_used
    failed = device.compute(*proc.slot("x" * 20_000))  # 20,000,000+ gas > 10,000,000
    assert failed.error == "out of gas!"
    assert failed.gas_used == 0  # ao's handle throws: no result, so no GasUsed
    assert device.compute(*proc.slot("again")).output.data == "ok"  # the process goes on


def test_gas_used_is_0_for_a_module_that_does_not_meter() -> None:
    proc = Proc("counter")
    device = proc.device()
    result = device.compute(*proc.slot("small"))
    assert result.error == "" and result.gas_used == 0
    assert encode_result(result)[:4] == b"AOR1"  # the digest is what it was before GasUsed existed


def test_without_a_declared_limit_gas_is_unlimited_and_fuel_bounds_the_slot() -> None:
    proc = metered_proc(None)
    device = proc.device()
    assert device.compute(*proc.slot("x" * 20_000)).output.data == "ok"


def _msg_len(device: WasmDevice, asg: object, msg: Message) -> int:
    from aonode.devices.wasm import iface

    return len(
        iface.message_json(
            msg,
            module_id=device._module_id,
            slot=asg.slot,  # type: ignore[attr-defined]
            timestamp=asg.timestamp,  # type: ignore[attr-defined]
            block_height=asg.block_height,  # type: ignore[attr-defined]
            epoch=asg.epoch,  # type: ignore[attr-defined]
            hash_chain=asg.hash_chain,  # type: ignore[attr-defined]
        )
    )


def test_weavedrive_reads_through_the_process_context() -> None:
    proc = Proc("counter")
    stored = Message(data=b"from the store")
    proc.context = replace(
        proc.context, read_data=lambda text: stored.data if text == encode_id(stored.id) else None
    )
    device = proc.device()
    assert device._io.read_data is not None
    assert device._io.read_data(encode_id(stored.id)) == b"from the store"


# A binary built for wasm32-unknown-emscripten's closure-minified glue: imports `a.<letter>`, exports letters
# (E memory, F __wasm_call_ctors, G handle, J malloc). `F` writes "C" at 8; `handle` round-trips 7 through
# setTempRet0 (a.b) / getTempRet0 (a.h) and answers {"ok":true,"response":{"Output":"<C><digit>"}}.
MINIFIED = """
(module
  (import "a" "b" (func $set (param i32)))
  (import "a" "h" (func $get (result i32)))
  (import "a" "f" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "E") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "{\\"ok\\":true,\\"response\\":{\\"Output\\":\\"__\\"}}\\00")
  (func (export "F") (i32.store8 (i32.const 8) (i32.const 67)))
  (func (export "J") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "G") (param i32 i32) (result i32)
    (call $set (i32.const 7))
    (i32.store8 (i32.const 49) (i32.load8_u (i32.const 8)))
    (i32.store8 (i32.const 50) (i32.add (i32.const 48) (call $get)))
    (i32.const 16)))
"""


def test_a_binary_of_the_minified_glue_runs() -> None:
    proc = Proc("counter")
    proc.module = Message(data=bytes(wasmtime.wat2wasm(MINIFIED)))
    proc.context = replace(proc.context, module=proc.module)
    device = proc.device()
    assert device.format == "wasm32-unknown-emscripten"  # detected: it imports a.*
    assert device.compute(*proc.slot("x")).output.data == "C7"
