"""Python-side conversion for lua@5.3a: messages to flat Lua arguments, flat Lua results to `Result`.

Crossing the Python↔Lua boundary is the cost of a slot, so nothing here builds Lua tables: a
message goes in as one argument list (ID, target, anchor, data, committer, algorithm, then the
tags' names and values) that codec.lua turns into a table, and a result comes back as one flat
tuple (layout in codec.lua's header) read here in a single pass. Strings cross as bytes (the VM
runs with `encoding=None`); text fields coming back are decoded as UTF-8, with U+FFFD for bytes
that are not (Lua strings are bytes; a tag value must be text), and message data stays bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aonode import ans104
from aonode.devices.base import DeviceError
from aonode.ids import encode_id
from aonode.model import (
    SCHEME_ED25519,
    SCHEME_RSA_PSS_SHA512,
    Message,
    Output,
    Result,
    ResultAssignment,
    Tag,
)

ALGORITHMS: dict[str, bytes] = {
    SCHEME_ED25519: b"ed25519",
    SCHEME_RSA_PSS_SHA512: b"rsa-pss-sha512",
    **{scheme: alg.encode() for scheme, alg in ans104.ALGORITHMS.items()},
}
"""The `alg` of a commitment, by signature scheme (HyperBEAM's names; an ANS-104 item's type 1 is
`rsa-pss-sha256`)."""

MEMORY_ERROR = "memory limit exceeded"
MAX_ERROR_CHARS = 64 * 1024
"""Longest error text kept in a Result: `error(string.rep("x", 2^24))` must not make a result that cannot
be sent."""
_LUA_MEMORY_MESSAGES = ("not enough memory", "not enough memory for buffer allocation")
# A raw pointer in a message would differ between runs; the host names objects "table: 0x%08x".
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{9,16}\b")


def text(b: bytes | str) -> str:
    if isinstance(b, str):
        return b
    try:
        return b.decode()
    except UnicodeDecodeError:
        return b.decode("utf-8", "replace")


def id_text(raw: bytes) -> bytes:
    """A 32-byte ID as its 43-character text; anything else as unpadded base64url (never raises)."""
    if len(raw) == 32:
        return encode_id(raw).encode("ascii")
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def message_args(m: Message) -> list[Any]:
    """The arguments codec.lua's build_message takes for `m`."""
    sig = m.signature
    if sig is None:
        committer: bytes | None = None
        alg: bytes | None = None
    else:
        address = m.owner_address
        committer = address.encode("ascii") if address is not None else None
        alg = ALGORITHMS.get(sig.scheme) or sig.scheme.encode()
    args: list[Any] = [id_text(m.id), m.target.encode(), m.anchor.encode(), m.data, committer, alg]
    for t in m.tags:
        args.append(t.name.encode())
        args.append(t.value.encode())
    return args


def message_size(args: Sequence[Any]) -> int:
    """What a message brings into the VM, from its `message_args`: its data and its tags' names and values
    (UTF-8 bytes)."""
    return len(args[3]) + sum(len(a) for a in args[6:])


def error_text(raw: object) -> str:
    """The deterministic text of an error that came out of Lua."""
    s = text(raw) if isinstance(raw, bytes | str) else str(raw)
    # Lua prefixes a position to some of them ("<chunk>:12: not enough memory for buffer allocation"):
    # which allocation fails first is the same on every node, but its wording must not leak into results
    if s.endswith(_LUA_MEMORY_MESSAGES):
        return MEMORY_ERROR
    if len(s) > MAX_ERROR_CHARS:
        s = f"{s[:MAX_ERROR_CHARS]}... (error text cut at {MAX_ERROR_CHARS} of {len(s)} characters)"
    return _ADDRESS.sub("0x?", s)


def _messages(flat: Sequence[Any], i: int) -> tuple[tuple[Message, ...], int]:
    count = flat[i]
    i += 1
    if count == 0:
        return (), i
    out: list[Message] = []
    for _ in range(count):
        target, anchor, data, ntags = flat[i], flat[i + 1], flat[i + 2], flat[i + 3]
        i += 4
        end = i + 2 * ntags
        tags = [Tag(text(flat[j]), text(flat[j + 1])) for j in range(i, end, 2)]
        i = end
        out.append(Message(text(target), text(anchor), tuple(tags), data))
    return tuple(out), i


def parse_result(flat: Sequence[Any]) -> Result:
    """The Result of a flat tuple `(True, data, prompt, print, outbox..., spawns..., assignments...)`."""
    output = Output(text(flat[1]), text(flat[2]), flat[3] is True)
    messages, i = _messages(flat, 4)
    spawns, i = _messages(flat, i)
    count = flat[i]
    i += 1
    assignments: list[ResultAssignment] = []
    for _ in range(count):
        nproc = flat[i]
        processes = tuple([text(p) for p in flat[i + 1 : i + 1 + nproc]])
        i += 1 + nproc
        assignments.append(ResultAssignment(processes, text(flat[i])))
        i += 1
    return Result(output, messages, spawns, tuple(assignments))


def to_lua_plain(value: Any, depth: int = 0) -> Any:
    """A Python value as data lupa converts without wrapping Python objects: str → bytes, mappings
    and sequences recursively (for `LuaRuntime.table_from(..., recursive=True)`)."""
    if depth > 100:
        raise DeviceError("a patch is nested more than 100 levels deep")
    if value is None or isinstance(value, bool | int | float | bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, Mapping):
        return {_key(k): to_lua_plain(v, depth + 1) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_lua_plain(v, depth + 1) for v in value]
    raise DeviceError(f"cannot put a {type(value).__name__} into a Lua state")


def plain_size(value: Any) -> int:
    """An upper bound on the bytes Lua allocates for `value` (from `to_lua_plain`) as a table."""
    if isinstance(value, bytes):
        return len(value) + 64
    if isinstance(value, dict):
        return 128 + sum(plain_size(k) + plain_size(v) + 64 for k, v in value.items())
    if isinstance(value, list):
        return 128 + sum(plain_size(v) + 32 for v in value)
    return 32


def _key(k: Any) -> bytes | int | float:
    if isinstance(k, str):
        return k.encode()
    if isinstance(k, bytes | int | float) and not isinstance(k, bool):
        return k
    raise DeviceError(f"cannot use a {type(k).__name__} as a Lua table key")
