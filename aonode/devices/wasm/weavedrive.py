"""WeaveDrive (`env.__asyncjs__weavedrive_open/_read/_close`), answered synchronously from the node's store.

In ao's glue these imports are asyncify imports: `Asyncify.handleAsync` starts the drive's promise, the
module unwinds (`asyncify_start_unwind`), and when the promise resolves the glue rewinds it and the import
returns the value. An asyncify-instrumented module checks the asyncify state after each such call and only
unwinds when the import set it to "unwinding"; an import that simply returns leaves the state "normal", and
the code goes on as after any call. So these are plain host functions here: no unwind, no rewind.

What is served, by path, as aos's `extensions/weavedrive` serves it from a gateway (`<ID>` is a 43-character
message ID; a module is a message too):
- `/data/<ID>`: the message's data, when it is in this node's store. A file with a position: `read(fd,
  dst, n)` copies up to `n` bytes from the position and advances it (0 at the end); the binary's `fseek`/
  `ftell` reach WASI `fd_seek` (its own `fread`/`fopen` call the drive, the rest of stdio is libc), which
  moves it: `SEEK_SET`/`SEEK_CUR`/`SEEK_END` (the end is the data's length, the JS drive's `usedBytes`),
  a negative result is EINVAL. So Lua's `f:seek("end")` gives the size and `f:seek("set", n)` rewinds.
- `/tx/<ID>`: the message's header as the JSON the drive builds from the gateway's `/tx/<ID>` plus
  `ownerAddress`: `{"format":2,"id","last_tx" (anchor),"owner" (public key, base64url),"tags"
  ([{"name","value"}], each base64url of its UTF-8, as Arweave serves tags),"target","quantity":"0",
  "data":"","data_size" (decimal text),"data_root":"","reward":"0","signature","ownerAddress"}` (fields
  this node has no value for are "" or "0", as for an Arweave data item).
- `/block/<height>`: `{"height","indep_hash"}` of the block the current slot's assignment names (its
  `block-height` and `block-hash`, base64url), when `<height>` is that height; any other height is not
  found. (The JS drive fetches any height from its gateway; a node has no block source but its own
  schedule, and answering only for the slot's own block keeps the answer a function of the schedule.)
- As in the JS drive, `/tx` and `/block` files are read from their start whatever the position, and such a
  read returns the count asked for (the bytes the header has are written).
- `/headers/...` and anything else, an ID not in the store, or a 65th open file: 0, what the glue returns
  when there is no drive (`null`).
`close(fd)` forgets the file (0; -1 for an unknown fd). Files are open for one slot (the JS drive keeps them
in its in-memory FS, which a snapshot does not hold: a process restored from a snapshot must see what a
process that never stopped sees). Reading costs fuel (one unit per 8 bytes).

Determinism: every answer is a function of the stored message and of the slot's assignment, so two nodes
answer differently only when one lacks the message; ao's CU has the same dependency on its gateway.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import wasmtime

from aonode.devices.base import DeviceError
from aonode.ids import b64url_encode, encode_id

if TYPE_CHECKING:
    from aonode.devices.wasm.imports import Handler, HostIO
    from aonode.model import Message

FIRST_FD = 100
MAX_OPEN = 64
_PATH = re.compile(r"/(data|tx|block)/([A-Za-z0-9_-]{43}|\d{1,20})")

DATA = "data"
HEADER = "header"
"""File kinds: a message's data (read from its position) or a JSON header (read from its start)."""


def tx_json(message: Message) -> bytes:
    """`/tx/<ID>`: the message's header as the drive's JSON (module docstring)."""
    sig = message.signature
    doc = {
        "format": 2,
        "id": encode_id(message.id),
        "last_tx": message.anchor,
        "owner": b64url_encode(sig.owner) if sig is not None else "",
        "tags": [
            {"name": b64url_encode(t.name.encode()), "value": b64url_encode(t.value.encode())}
            for t in message.tags
        ],
        "target": message.target,
        "quantity": "0",
        "data": "",
        "data_size": str(len(message.data)),
        "data_root": "",
        "reward": "0",
        "signature": b64url_encode(sig.value) if sig is not None else "",
        "ownerAddress": message.owner_address or "",
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def block_json(height: int, block_hash: bytes) -> bytes:
    return json.dumps(
        {"height": height, "indep_hash": b64url_encode(block_hash)}, separators=(",", ":")
    ).encode()


def _lookup(io: HostIO, kind: str, name: str) -> tuple[bytes, str] | None:
    try:
        if kind == "data":
            if io.read_data is None or len(name) != 43:
                return None
            data = io.read_data(name)
            return None if data is None else (data, DATA)
        if kind == "tx":
            if io.read_message is None or len(name) != 43:
                return None
            message = io.read_message(name)
            return None if message is None else (tx_json(message), HEADER)
        height, block_hash = io.block
        if not name.isdigit() or int(name) != height:
            return None
        return block_json(height, block_hash), HEADER
    except DeviceError:
        return None


def seek(io: HostIO, fd: int, offset: int, whence: int) -> int | None:
    """WASI `fd_seek` on a drive file: the new position, -1 for a bad one (the caller answers EINVAL), None
    if `fd` is not one."""
    entry = io.files.get(fd)
    if entry is None:
        return None
    data, pos, _kind = entry
    base = {0: 0, 1: pos, 2: len(data)}.get(whence)
    if base is None or base + offset < 0:
        return -1
    entry[1] = base + offset
    return int(entry[1])


def handler(op: str, io: HostIO, ty: wasmtime.FuncType) -> Handler | None:
    """The host function for `__asyncjs__weavedrive_<op>` with signature `ty`, or None."""
    from aonode.devices.wasm.imports import COPY_BYTES_PER_FUEL, _cstring, _Mem, _ptr_width

    width = _ptr_width(ty)
    mask = (1 << (8 * width)) - 1

    def open_(caller: wasmtime.Caller, path: int, mode: int) -> int:
        mem = _Mem(caller)
        name = _cstring(mem, path & mask, 256).decode("utf-8", "replace")
        m = _PATH.fullmatch(name)
        if m is None or len(io.files) >= MAX_OPEN:
            return 0
        found = _lookup(io, m.group(1), m.group(2))
        if found is None:
            return 0
        fd = FIRST_FD + len(io.files)
        while fd in io.files:
            fd += 1
        io.files[fd] = [found[0], 0, found[1]]
        return fd

    def read(caller: wasmtime.Caller, fd: int, dst: int, length: int) -> int:
        entry = io.files.get(fd)
        if entry is None:
            return -1
        data, pos, kind = entry
        want = min(length & mask, 1 << 26)
        start = 0 if kind == HEADER else pos
        chunk = data[start : start + want]
        io.charge(caller, len(chunk) // COPY_BYTES_PER_FUEL)
        _Mem(caller).write(dst & mask, chunk)
        if kind == HEADER:
            return want  # the JS drive answers the length asked for a header file
        entry[1] = pos + len(chunk)
        return len(chunk)

    def close(caller: wasmtime.Caller, fd: int) -> int:
        return 0 if io.files.pop(fd, None) is not None else -1

    table: dict[str, tuple[Any, int]] = {"open": (open_, 2), "read": (read, 3), "close": (close, 1)}
    found = table.get(op)
    if found is None or len(ty.params) != found[1] or len(ty.results) != 1:
        return None
    return found[0]  # type: ignore[no-any-return]
