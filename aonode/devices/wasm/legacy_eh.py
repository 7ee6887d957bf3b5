"""Legacy exception handling: a module using the legacy opcodes (`try`/`catch`/`catch_all`/`rethrow`/
`delegate`, which wasmtime does not run) is translated to the final form (`try_table`/`throw_ref`/
`exnref`) by our own translator (exnref.py, on the binary reader binary.py), so `pip install` is enough: no
Binaryen, npm or node.

The device compiles the module as it is; only when wasmtime refuses it for the legacy opcodes (its error
names the `legacy_exceptions` feature) is it translated. The translation is cached by the original's
blake3 digest: in memory (`CACHE_SIZE` entries), and in the node's store when the device setting
`artifacts` holds its `ArtifactStore` (compute/artifacts.py: an object named by the `artifacts` table's
row `exnref ‖ 0 ‖ digest`), so a restart, and every other process on the module, reads the translation
instead of redoing it; the translated module's compiled artifact is then found in the compiled-module
cache (runtime.py). The original stays the process's module and its ID; only the code that runs changes.
A translation read back is used as it is: the store verifies every object against its digest.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aonode.devices.base import ARTIFACTS_SETTING, ArtifactStore, DeviceError
from aonode.devices.wasm import exnref
from aonode.devices.wasm.binary import DecodeError
from aonode.devices.wasm.runtime import module_digest

NAME = "wasm64@1.0"
LEGACY_MARKER = "legacy_exceptions"
"""What wasmtime's validation error says about a legacy EH opcode."""

ARTIFACT_KIND = "exnref"
"""The kind of the translations in the node's `ArtifactStore`."""

CACHE_SIZE = 16

_cache: OrderedDict[bytes, bytes] = OrderedDict()
_lock = threading.Lock()


def is_legacy_eh_error(error: BaseException) -> bool:
    """Whether wasmtime refused a module for its legacy exception-handling opcodes."""
    return LEGACY_MARKER in str(error)


def artifacts_of(settings: Mapping[str, Any] | None) -> ArtifactStore | None:
    """The node's `ArtifactStore` from the device settings, if it gave one."""
    found = (settings or {}).get(ARTIFACTS_SETTING)
    return found if found is not None and hasattr(found, "get_artifact") else None


def cached(wasm: bytes, settings: Mapping[str, Any] | None = None) -> bytes | None:
    """The translation of `wasm` made earlier (memory, then the node's store), or None."""
    key = module_digest(wasm)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    artifacts = artifacts_of(settings)
    if artifacts is not None:
        data = artifacts.get_artifact(ARTIFACT_KIND, key)
        if data is not None:
            _remember(key, data)
            return data
    return None


def translate(wasm: bytes, settings: Mapping[str, Any] | None = None) -> bytes:
    """`wasm` with its legacy EH opcodes translated to the final form (cached by the original's digest).
    DeviceError when the module cannot be decoded or uses legacy EH in a way the translator refuses."""
    hit = cached(wasm, settings)
    if hit is not None:
        return hit
    try:
        out = exnref.translate(wasm)
    except DecodeError as exc:
        raise DeviceError(f"{NAME}: cannot translate the module's legacy exception handling: {exc}") from None
    key = module_digest(wasm)
    _remember(key, out)
    artifacts = artifacts_of(settings)
    if artifacts is not None:
        artifacts.put_artifact(ARTIFACT_KIND, key, out)
    return out


def _remember(key: bytes, data: bytes) -> None:
    with _lock:
        _cache[key] = data
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def clear_cache() -> None:
    """Forget the in-memory translations (tests)."""
    with _lock:
        _cache.clear()
