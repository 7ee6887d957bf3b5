"""IDs, their text form, and the hash chains built from them.

Every ID in aonode is 32 raw bytes (a blake3 digest); on the wire and to people it is shown the AO way, as
43 characters of unpadded base64url. The text form is parsed strictly: exactly one text per ID (no padding,
no `+`/`/`, no whitespace, and the unused low bits of the last character must be zero), so an ID can be
compared as text or as bytes with the same answer.

Two chains are folded from a process ID, both as blake3 over raw 32-byte values:
- hash chain (the schedule): `hash_chain(n) = blake3(hash_chain(n-1) ‖ message_id(n))`;
- hashpath (the state):     `hashpath(n)  = blake3(hashpath(n-1)  ‖ assignment_id(n))`;
with `hash_chain(-1) = hashpath(-1) = process ID`. docs/ids.md has the rules and test vectors.

An address is base64url(sha256(owner)), where the owner is the signer's public key as it appears in a
signature (Arweave's rule, so an RSA wallet has the same address here as on Arweave).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import NewType

from blake3 import blake3

from aonode.errors import InvalidArgument

Digest = NewType("Digest", bytes)
MessageId = NewType("MessageId", bytes)
ProcessId = NewType("ProcessId", bytes)
AssignmentId = NewType("AssignmentId", bytes)
Address = NewType("Address", str)

ID_LEN = 32
ID_TEXT_LEN = 43

_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")


class InvalidIdError(InvalidArgument):
    """A text or raw value that is not a well-formed ID."""


def b64url_encode(b: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def b64url_decode(s: str) -> bytes:
    """Strict inverse of `b64url_encode`: the only accepted text for a byte string is the one
    `b64url_encode` produces. Raises `InvalidIdError` (an `InvalidArgument`) otherwise."""
    if len(s) % 4 == 1 or _B64URL_CHARS.fullmatch(s) is None:
        raise InvalidIdError("not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the checks above exclude these
        raise InvalidIdError("not unpadded base64url") from exc
    # Non-zero unused bits in the last character would give a second text for the same bytes.
    if len(s) % 4 and b64url_encode(raw) != s:
        raise InvalidIdError("not canonical base64url (non-zero trailing bits)")
    return raw


def encode_id(raw: bytes) -> str:
    """The 43-character text form of a 32-byte ID."""
    if len(raw) != ID_LEN:
        raise InvalidIdError(f"an ID is {ID_LEN} bytes, got {len(raw)}")
    return base64.urlsafe_b64encode(raw)[:ID_TEXT_LEN].decode("ascii")


# 43 characters carry 258 bits for 256: the last one's two low bits are unused and must be zero, which
# leaves these 16 characters (A=0, E=4, I=8, ...). With them, a canonical ID text is checked without
# re-encoding the bytes it decodes to.
_ID_LAST_CHARS = frozenset("AEIMQUYcgkosw048")
_URL_TO_STD = bytes.maketrans(b"-_", b"+/")


def decode_id(text: str, what: str = "id") -> bytes:
    """Parse a 43-character ID; the error names `what` (e.g. "process") so a caller sees which field."""
    if len(text) != ID_TEXT_LEN:
        raise InvalidIdError(f"{what}: not a 43-character base64url ID (got {_show(text)})")
    if text[-1] in _ID_LAST_CHARS and _B64URL_CHARS.fullmatch(text) is not None:
        return binascii.a2b_base64(text.encode("ascii").translate(_URL_TO_STD) + b"=")
    try:  # not canonical: b64url_decode says why
        return b64url_decode(text)
    except InvalidIdError as exc:
        raise InvalidIdError(f"{what}: not a 43-character base64url ID (got {_show(text)}: {exc})") from None


def is_id(text: str) -> bool:
    """True when `text` is the canonical text form of an ID."""
    try:
        decode_id(text)
    except InvalidIdError:
        return False
    return True


def _show(text: str) -> str:
    # Echo enough of a bad value to recognise it, never an unbounded amount of caller input.
    return repr(text) if len(text) <= 64 else repr(text[:61]) + "..."


# A 43-character ID text that begins with "-" (one real ID in 64): option parsers (click, argparse) read
# such a word as options. Command lines shield it before parsing and unshield the parsed values.
_DASHED_ID = re.compile(r"-[A-Za-z0-9_-]{42}")
_ARG_SHIELD = "\x00"


def shield_dashed_ids(args: list[str]) -> list[str]:
    """`args` with every word that is an ID beginning with "-" prefixed so that an option parser takes it
    as a value; from a `--` on, nothing is touched. `unshield_arg` restores a parsed value."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return out + args[index:]
        out.append(_ARG_SHIELD + arg if _DASHED_ID.fullmatch(arg) else arg)
    return out


def unshield_arg(value: object) -> object:
    """A parsed command-line value with `shield_dashed_ids`' prefix removed (in tuples and lists too)."""
    if isinstance(value, str) and value.startswith(_ARG_SHIELD):
        return value[len(_ARG_SHIELD) :]
    if isinstance(value, tuple):
        return tuple(unshield_arg(item) for item in value)
    if isinstance(value, list):
        return [unshield_arg(item) for item in value]
    return value


def blake3_digest(data: bytes) -> bytes:
    return blake3(data).digest()


def _check_id(value: bytes, what: str) -> None:
    if len(value) != ID_LEN:
        raise InvalidIdError(f"{what}: an ID is {ID_LEN} bytes, got {len(value)}")


def next_hash_chain(prev: bytes, message_id: bytes) -> bytes:
    """hash_chain(n) from hash_chain(n-1) (the process ID for slot 0) and the ID of slot n's message."""
    _check_id(prev, "previous hash chain")
    _check_id(message_id, "message ID")
    return blake3(prev + message_id).digest()


def next_hashpath(prev: bytes, assignment_id: bytes) -> bytes:
    """hashpath(n) from hashpath(n-1) (the process ID for slot 0) and the ID of slot n's assignment."""
    _check_id(prev, "previous hashpath")
    _check_id(assignment_id, "assignment ID")
    return blake3(prev + assignment_id).digest()


def address_of(owner: bytes) -> Address:
    """base64url(sha256(owner)): the address of the key whose public form is `owner`."""
    return Address(b64url_encode(hashlib.sha256(owner).digest()))
