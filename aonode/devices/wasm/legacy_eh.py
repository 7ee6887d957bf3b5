"""Legacy exception handling: translate a module using the Phase-3 EH opcodes (`try`/`catch`/`rethrow`/
`delegate`, which wasmtime rejects) to the final form (`try_table`/`exnref`) with Binaryen's
`wasm-opt --translate-to-exnref` (Binaryen >= 119).

The device compiles the module as it is; only when wasmtime refuses it for the legacy opcodes (its error
names the `legacy_exceptions` feature) is it translated. The translation is cached by the original's
blake3 digest: in memory, and as `<cache_dir>/<digest hex>.exnref.wasm` when the device setting
`cache_dir` is given. The original stays the process's module and its ID; only the code that runs changes.

The translator, first found of:
1. the device setting `wasm_opt`, else the environment variable `AONODE_WASM_OPT`: a command (split like a
   shell would, e.g. `node /opt/binaryen/bin/wasm-opt`);
2. `wasm-opt` on PATH, when its version is >= 119 (Debian bookworm's is 108: too old);
3. the `binaryen` npm package (its `bin/wasm-opt` is JS + wasm that node runs) under the device setting
   `binaryen_dir`, else `AONODE_BINARYEN_DIR`, else `~/.cache/aonode/binaryen`
   (`npm install --prefix ~/.cache/aonode/binaryen binaryen`), with `node` on PATH.
When none is usable the module is refused with an error that says so and what was tried.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aonode.devices.base import DeviceError
from aonode.devices.wasm.runtime import module_digest

NAME = "wasm64@1.0"
MIN_BINARYEN = 119
LEGACY_MARKER = "legacy_exceptions"
"""What wasmtime's validation error says about a legacy EH opcode."""

DEFAULT_BINARYEN_DIR = Path("~/.cache/aonode/binaryen")
TIMEOUT = 300.0
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
    DeviceError when no translator is available or the translation fails."""
    settings = settings or {}
    cache_dir = settings.get("cache_dir")
    hit = cached(wasm, cache_dir)
    if hit is not None:
        return hit
    command, tried = find_translator(settings)
    if command is None:
        raise DeviceError(
            f"{NAME}: the module uses legacy exception-handling opcodes (try/catch/rethrow/delegate), which "
            f"wasmtime rejects, and no translator is available: translating it needs Binaryen >= "
            f"{MIN_BINARYEN} `wasm-opt --translate-to-exnref` (device setting `wasm_opt` or AONODE_WASM_OPT; "
            f"wasm-opt on PATH; or node with the `binaryen` npm package under "
            f"{_binaryen_dir(settings)}). Tried: {'; '.join(tried)}"
        )
    with tempfile.TemporaryDirectory(prefix="aonode-eh-") as tmp:
        src, dst = Path(tmp) / "in.wasm", Path(tmp) / "out.wasm"
        src.write_bytes(wasm)
        # `--all-features` turns on compact imports in Binaryen >= 132, whose encoding wasmtime refuses;
        # a Binaryen that predates the flag refuses it, and then runs without it.
        argv = [
            *command,
            "--all-features",
            "--disable-compact-imports",
            "--debuginfo",
            "--translate-to-exnref",
        ]
        try:
            done = subprocess.run([*argv, str(src), "-o", str(dst)], capture_output=True, timeout=TIMEOUT)
            if done.returncode != 0 and b"compact-imports" in done.stderr + done.stdout:
                argv.remove("--disable-compact-imports")
                done = subprocess.run([*argv, str(src), "-o", str(dst)], capture_output=True, timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeviceError(f"{NAME}: translating legacy exception handling failed: {exc}") from None
        if done.returncode != 0 or not dst.is_file():
            tail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-500:]
            raise DeviceError(
                f"{NAME}: `{shlex.join(command)} --translate-to-exnref` failed ({done.returncode}): {tail}"
            )
        out = dst.read_bytes()
    key = module_digest(wasm)
    _remember(key, out)
    path = _cache_path(key, cache_dir)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp_path.write_bytes(out)
        os.replace(tmp_path, path)
    return out


def find_translator(settings: Mapping[str, Any] | None = None) -> tuple[list[str] | None, list[str]]:
    """(the wasm-opt command to run, or None; what was tried and why it was not used)."""
    settings = settings or {}
    tried: list[str] = []
    explicit = settings.get("wasm_opt") or os.environ.get("AONODE_WASM_OPT")
    candidates: list[list[str]] = []
    if explicit:
        candidates.append(shlex.split(str(explicit)))
    else:
        on_path = shutil.which("wasm-opt")
        if on_path is None:
            tried.append("no wasm-opt on PATH")
        else:
            candidates.append([on_path])
        script = _binaryen_dir(settings) / "node_modules" / "binaryen" / "bin" / "wasm-opt"
        node = shutil.which("node")
        if not script.is_file():
            tried.append(f"no {script}")
        elif node is None:
            tried.append("no node on PATH")
        else:
            candidates.append([node, str(script)])
    for command in candidates:
        version, why = _version(tuple(command))
        if version is not None and version >= MIN_BINARYEN:
            return command, tried
        tried.append(f"{shlex.join(command)}: {why or f'version {version} < {MIN_BINARYEN}'}")
    return None, tried


_versions: dict[tuple[str, ...], tuple[int | None, str]] = {}


def _version(command: tuple[str, ...]) -> tuple[int | None, str]:
    """(`wasm-opt --version`'s number, or None; why not), remembered per command."""
    if command in _versions:
        return _versions[command]
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, timeout=60, check=False)
        text = done.stdout.decode("utf-8", "replace")
        m = re.search(r"version\s+(\d+)", text)
        found: tuple[int | None, str] = (int(m.group(1)), "") if m else (None, f"no version in {text[:80]!r}")
    except (OSError, subprocess.TimeoutExpired) as exc:
        found = (None, str(exc))
    _versions[command] = found
    return found


def _binaryen_dir(settings: Mapping[str, Any]) -> Path:
    text = settings.get("binaryen_dir") or os.environ.get("AONODE_BINARYEN_DIR")
    return Path(str(text)).expanduser() if text else DEFAULT_BINARYEN_DIR.expanduser()


def _cache_path(key: bytes, cache_dir: str | os.PathLike[str] | None) -> Path | None:
    return Path(cache_dir) / f"{key.hex()}.exnref.wasm" if cache_dir else None


def _remember(key: bytes, data: bytes) -> None:
    with _lock:
        _cache[key] = data
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def clear_cache() -> None:
    """Forget the in-memory translations and translator versions (tests)."""
    with _lock:
        _cache.clear()
    _versions.clear()
