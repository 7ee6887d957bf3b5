"""WeaveDrive (`env.__asyncjs__weavedrive_open/_read/_close`), answered synchronously from the node's store.

In ao's glue these imports are asyncify imports: `Asyncify.handleAsync` starts the drive's promise, the
module unwinds (`asyncify_start_unwind`), and when the promise resolves the glue rewinds it and the import
returns the value. An asyncify-instrumented module checks the asyncify state after each such call and only
unwinds when the import set it to "unwinding"; an import that simply returns leaves the state "normal", and
the code goes on as after any call. So these are plain host functions here: no unwind, no rewind.

What is served: `open("/data/<ID>")`, where `<ID>` is a 43-character message ID, opens the data of that
message (a module is a message too) when it is in this node's store, and returns a file descriptor (100 and
up); anything else, or an ID not in the store, returns 0, what the glue returns when there is no drive
(`null`). `read(fd, dst, length)` copies up to `length` bytes from the file's position and returns how many;
`close(fd)` forgets it (0; -1 for an unknown fd). Files are open for one slot (the JS drive keeps them in
its in-memory FS, which a snapshot does not hold: a process restored from a snapshot must see what a
process that never stopped sees).

Determinism: a message is either in the store or not, so two nodes answer differently only when one lacks
the message; ao's CU has the same dependency on what its gateway serves.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import wasmtime

from aonode.devices.base import DeviceError

if TYPE_CHECKING:
    from aonode.devices.wasm.imports import Handler, HostIO

FIRST_FD = 100
MAX_OPEN = 64
_PATH = re.compile(r"/data/([A-Za-z0-9_-]{43})")


def handler(op: str, io: HostIO, ty: wasmtime.FuncType) -> Handler | None:
    """The host function for `__asyncjs__weavedrive_<op>` with signature `ty`, or None."""
    from aonode.devices.wasm.imports import COPY_BYTES_PER_FUEL, _cstring, _Mem, _ptr_width

    width = _ptr_width(ty)
    mask = (1 << (8 * width)) - 1

    def open_(caller: wasmtime.Caller, path: int, mode: int) -> int:
        mem = _Mem(caller)
        name = _cstring(mem, path & mask, 256).decode("utf-8", "replace")
        m = _PATH.fullmatch(name)
        if m is None or io.read_data is None or len(io.files) >= MAX_OPEN:
            return 0
        try:
            data = io.read_data(m.group(1))
        except DeviceError:
            data = None
        if data is None:
            return 0
        fd = FIRST_FD + len(io.files)
        while fd in io.files:
            fd += 1
        io.files[fd] = [data, 0]
        return fd

    def read(caller: wasmtime.Caller, fd: int, dst: int, length: int) -> int:
        entry = io.files.get(fd)
        if entry is None:
            return -1
        data, pos = entry
        chunk = data[pos : pos + min(length & mask, 1 << 26)]
        io.charge(caller, len(chunk) // COPY_BYTES_PER_FUEL)
        _Mem(caller).write(dst & mask, chunk)
        entry[1] = pos + len(chunk)
        return len(chunk)

    def close(caller: wasmtime.Caller, fd: int) -> int:
        return 0 if io.files.pop(fd, None) is not None else -1

    table: dict[str, tuple[Any, int]] = {"open": (open_, 2), "read": (read, 3), "close": (close, 1)}
    found = table.get(op)
    if found is None or len(ty.params) != found[1] or len(ty.results) != 1:
        return None
    return found[0]  # type: ignore[no-any-return]
