"""Legacy exception handling: a module using the legacy opcodes (`try`/`catch`/`catch_all`/`rethrow`/
`delegate`, which wasmtime does not run) is translated to the final form (`try_table`/`throw_ref`/
`exnref`) by our own translator (exnref.py, on the binary reader binary.py), so `pip install` is enough: no
Binaryen, npm or node.

The device compiles the module as it is; only when wasmtime refuses it for the legacy opcodes (its error
names the `legacy_exceptions` feature) is it translated. The translation is cached by the original's
blake3 digest: in memory, and as `<cache_dir>/<digest hex>.exnref.wasm` when the device setting
`cache_dir` is given (the same directory that keeps compiled modules, so after a restart the translated
module's compiled artifact is found there too). The original stays the process's module and its ID; only
the code that runs changes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aonode.devices.base import DeviceError
from aonode.devices.wasm import exnref
from aonode.devices.wasm.binary import DecodeError
from aonode.devices.wasm.runtime import module_digest

NAME = "wasm64@1.0"
LEGACY_MARKER = "legacy_exceptions"
"""What wasmtime's validation error says about a legacy EH opcode."""

CACHE_SIZE = 16

_cache: OrderedDict[bytes, bytes] = OrderedDict()
_lock = threading.Lock()


def is_legacy_eh_error(error: BaseException) -> bool:
    """Whether wasmtime refused a module for its legacy exception-handling opcodes."""
    return LEGACY_MARKER in str(error)


def cached(wasm: bytes, cache_dir: str | os.PathLike[str] | None = None) -> bytes | None:
    """The translation of `wasm` made earlier (memory, then `cache_dir`), or None."""
    key = module_digest(wasm)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    path = _cache_path(key, cache_dir)
    if path is not None and path.is_file():
        data = path.read_bytes()
        _remember(key, data)
        return data
    return None


def translate(wasm: bytes, settings: Mapping[str, Any] | None = None) -> bytes:
    """`wasm` with its legacy EH opcodes translated to the final form (cached by the original's digest).
    DeviceError when the module cannot be decoded or uses legacy EH in a way the translator refuses."""
    settings = settings or {}
    cache_dir = settings.get("cache_dir")
    hit = cached(wasm, cache_dir)
    if hit is not None:
        return hit
    try:
        out = exnref.translate(wasm)
    except DecodeError as exc:
        raise DeviceError(f"{NAME}: cannot translate the module's legacy exception handling: {exc}") from None
    key = module_digest(wasm)
    _remember(key, out)
    path = _cache_path(key, cache_dir)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp_path.write_bytes(out)
        os.replace(tmp_path, path)  # atomic: a concurrent reader sees no file or the whole one
    return out


def _cache_path(key: bytes, cache_dir: str | os.PathLike[str] | None) -> Path | None:
    return Path(cache_dir) / f"{key.hex()}.exnref.wasm" if cache_dir else None


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
