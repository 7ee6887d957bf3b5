"""Modules using the legacy exception-handling opcodes (modules/legacy_eh.wat, and the real wasm64 AOS
fixture): wasmtime rejects them as they are; the device translates them once with our own translator
(exnref.py), caches the translation by the original's digest (memory and the node's store), and keeps the
original as the process's module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime

from aonode.compute.artifacts import ARTIFACTS, StoreArtifacts
from aonode.devices.base import ARTIFACTS_SETTING, DeviceError
from aonode.devices.wasm import exnref, legacy_eh, runtime
from store import LmdbStore
from tests.conformance.conftest import FIXTURES, require
from tests.devices.wasm.helpers import Proc, module_bytes

WASM64 = next(f for f in FIXTURES if f.file == "aos2-wasm64-legacy-eh.wasm")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    legacy_eh.clear_cache()
    yield
    legacy_eh.clear_cache()


def test_wasmtime_rejects_the_module_as_it_is() -> None:
    with pytest.raises(wasmtime.WasmtimeError) as info:
        runtime.load_module(module_bytes("legacy_eh"))
    assert legacy_eh.is_legacy_eh_error(info.value)


def test_translated_once_cached_by_digest_in_the_store_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LmdbStore(tmp_path / "store")
    try:
        settings = {"cache_dir": str(tmp_path / "cache"), ARTIFACTS_SETTING: StoreArtifacts(store)}
        proc = Proc("legacy_eh", settings=settings)
        device = proc.device()
        assert device.compute(*proc.slot()).output.data == "caught 42"
        wasm = module_bytes("legacy_eh")
        digest = runtime.module_digest(wasm)
        # An object of the store, named by its `artifacts` row; no translation file next to the .cwasm.
        row = store.get(ARTIFACTS, b"exnref\0" + digest)
        assert row is not None and store.get_object(row) == exnref.translate(wasm)
        assert not list((tmp_path / "cache").glob("*.exnref.wasm"))
        assert proc.context.module is not None and proc.context.module.data == wasm  # the original stays
    finally:
        store.close()
    # A restart (memory forgotten, the store reopened) finds the translation there: not translated again.
    legacy_eh.clear_cache()
    runtime.clear_module_cache()

    def refuse(_wasm: bytes) -> bytes:
        raise AssertionError("translated again")

    monkeypatch.setattr(exnref, "translate", refuse)
    store = LmdbStore(tmp_path / "store")
    try:
        settings = {"cache_dir": str(tmp_path / "cache"), ARTIFACTS_SETTING: StoreArtifacts(store)}
        proc = Proc("legacy_eh", settings=settings)
        assert proc.device().compute(*proc.slot()).output.data == "caught 42"
    finally:
        store.close()


def test_the_compiled_module_cache_is_bounded_by_bytes() -> None:
    runtime.clear_module_cache()
    first = module_bytes("counter")
    second = module_bytes("loop")
    runtime.load_module(first)
    one = runtime.module_cache_bytes()
    assert one > 0 and runtime.module_cache_count() == 1
    # A bound below two modules' code keeps only the most recently used one (the count was 16, any size).
    runtime.load_module(second, max_bytes=one + 1)
    assert runtime.module_cache_count() == 1
    assert 0 < runtime.module_cache_bytes() <= max(one + 1, runtime.module_cache_bytes())
    runtime.load_module(first, max_bytes=10 * one)  # compiled again: it was evicted
    assert runtime.module_cache_count() == 2
    runtime.clear_module_cache()
    assert runtime.module_cache_bytes() == 0


def test_a_module_the_translator_refuses_is_a_device_error() -> None:
    bad = bytes(wasmtime.wat2wasm('(module (func (export "f") try rethrow 0 catch_all end))'))
    with pytest.raises(DeviceError, match="cannot translate the module's legacy exception handling"):
        legacy_eh.translate(bad)


def test_the_wasm64_aos_fixture_translates_validates_and_instantiates() -> None:
    wasm = require(WASM64)
    with pytest.raises(wasmtime.WasmtimeError) as info:
        wasmtime.Module(runtime.engine(), wasm)
    assert legacy_eh.is_legacy_eh_error(info.value)
    translated = legacy_eh.translate(wasm)
    assert not exnref.uses_legacy_eh(translated)
    module = runtime.load_module(translated)  # validates in wasmtime 50 (exceptions on, no compact imports)
    # Instantiate with every imported function a trap, so this checks validation and linking only (the
    # imports themselves are imports.py's business).
    store = wasmtime.Store(runtime.engine())
    store.set_fuel(10**9)
    store.set_epoch_deadline(1 << 40)
    linker = wasmtime.Linker(runtime.engine())
    for imp in module.imports:
        assert isinstance(imp.type, wasmtime.FuncType), imp.name
        assert imp.name is not None

        def trap(*_args: object) -> None:
            raise wasmtime.Trap("stub")

        linker.define_func(imp.module, imp.name, imp.type, trap)
    instance = linker.instantiate(store, module)
    exports = instance.exports(store)
    assert isinstance(exports["handle"], wasmtime.Func)
    malloc = exports["malloc"]
    assert isinstance(malloc, wasmtime.Func)
    assert malloc(store, 64) > 0  # translated code runs
