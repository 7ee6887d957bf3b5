"""Modules using the legacy exception-handling opcodes (modules/legacy_eh.wat): wasmtime rejects them as
they are; the device translates them once with Binaryen's `wasm-opt --translate-to-exnref`, caches the
translation by the original's digest, and says exactly that no translator is available when none is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime

from aonode.devices.base import DeviceError
from aonode.devices.wasm import legacy_eh, runtime
from tests.devices.wasm.helpers import Proc, module_bytes

needs_translator = pytest.mark.skipif(
    legacy_eh.find_translator()[0] is None,
    reason="no Binaryen >= 119 wasm-opt: `npm install --prefix ~/.cache/aonode/binaryen binaryen` (with "
    "node on PATH), or set AONODE_WASM_OPT",
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    legacy_eh.clear_cache()
    yield
    legacy_eh.clear_cache()


def test_wasmtime_rejects_the_module_as_it_is() -> None:
    with pytest.raises(wasmtime.WasmtimeError) as info:
        runtime.load_module(module_bytes("legacy_eh"))
    assert legacy_eh.is_legacy_eh_error(info.value)


@needs_translator
def test_translated_once_cached_by_digest_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = Proc("legacy_eh", settings={"cache_dir": str(tmp_path)})
    device = proc.device()
    assert device.compute(*proc.slot()).output.data == "caught 42"
    wasm = module_bytes("legacy_eh")
    cached = tmp_path / f"{runtime.module_digest(wasm).hex()}.exnref.wasm"
    assert cached.is_file()
    assert proc.context.module is not None and proc.context.module.data == wasm  # the original stays
    # From the cache (memory, then cache_dir): the translator is not run again.
    legacy_eh.clear_cache()
    monkeypatch.setenv("AONODE_WASM_OPT", str(tmp_path / "no-such-wasm-opt"))
    assert proc.device().compute(*proc.slot()).output.data == "caught 42"


def test_without_a_translator_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AONODE_WASM_OPT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("AONODE_BINARYEN_DIR", str(tmp_path))
    with pytest.raises(DeviceError, match="legacy exception-handling opcodes") as info:
        Proc("legacy_eh").device()
    assert "no translator is available" in str(info.value)
    assert "--translate-to-exnref" in str(info.value)
