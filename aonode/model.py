"""The AO data model: messages, assignments, results and scheduler locations as frozen dataclasses.

Values are immutable, and their derived values (content digest, ID, owner address) are computed once per
object on first use and kept in the instance `__dict__` (`_derived`, a lock-free `cached_property`; the
dataclasses are frozen but not slotted so the cache has somewhere to live). Equality and hashing look only
at the fields.

Messages and assignments also keep their encoding (`aonode.codec`), computed together with the content
digest (the content encoding is a prefix of the full one), so verifying a message and then storing its
encoding, or signing an assignment and then storing it, encodes it once. Encodings above
`codec.ENCODING_CACHE_MAX` are not kept (re-encoding is cheap next to hashing them).

IDs follow docs/ids.md §3: the content digest is blake3 of the canonical encoding without the signature
value (`aonode.codec`, laid out in docs/ids.md), which does include the signature's scheme and owner so
both are bound by the signature; a signed object's ID is blake3(signature value), an unsigned one's is its
content digest. Signing and verifying live in `aonode.crypto`.

`validate()` enforces the limits a node accepts from callers; the codec itself encodes anything it can
represent, so stored or relayed values never fail to round-trip because a limit changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, overload

from blake3 import blake3

from aonode.errors import InvalidArgument
from aonode.ids import (
    ID_LEN,
    Address,
    AssignmentId,
    Digest,
    InvalidIdError,
    MessageId,
    address_of,
    b64url_encode,
    decode_id,
)

SCHEME_ED25519 = "ed25519"
SCHEME_RSA_PSS_SHA512 = "rsa-pss-sha512"

MAX_TAGS = 128
MAX_TAG_NAME_BYTES = 1024
MAX_TAG_VALUE_BYTES = 3072
MAX_ANCHOR_BYTES = 64
MAX_BLOCK_HASH_BYTES = 64
MAX_SLOT = 2**63 - 1
"""The largest slot a request may name: a schedule of 2^63 slots is beyond any store, and the bound keeps
every `slot + n` of a bounded range a valid u64 key (2^64 - 1 used to reach the store and fail as
INTERNAL)."""
MAX_U64 = 2**64 - 1


class ValidationError(InvalidArgument):
    """A value outside the limits the node accepts."""


_Obj = TypeVar("_Obj")
_Val = TypeVar("_Val")


class _derived(Generic[_Obj, _Val]):
    """`functools.cached_property` without its lock. On Python 3.11 that lock is one per property shared by
    all instances, so threads hashing different messages would queue behind each other; computing a digest
    twice in a race is harmless (same value). A non-data descriptor: once the value is in the instance
    `__dict__`, attribute lookup finds it there and this is never called again."""

    def __init__(self, func: Callable[[_Obj], _Val]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _derived[_Obj, _Val]: ...

    @overload
    def __get__(self, obj: _Obj, objtype: type | None = None) -> _Val: ...

    def __get__(self, obj: _Obj | None, objtype: type | None = None) -> _Val | _derived[_Obj, _Val]:
        if obj is None:
            return self
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature over a content digest. `owner` is the signer's public key (Ed25519: the 32-byte key;
    RSA-PSS: the big-endian modulus). `value` is empty while the content digest is being computed for
    signing; the digest never covers it."""

    scheme: str
    owner: bytes
    value: bytes

    @property
    def address(self) -> Address:
        return address_of(self.owner)


@dataclass(frozen=True)
class Message:
    """An AO message (a data item). A Process is a Message tagged `Type=Process` with an empty target.

    `target` is kept as text: outbox messages produced by process code may name anything, and only
    `validate()` insists on an ID."""

    target: str = ""
    anchor: str = ""
    tags: tuple[Tag, ...] = ()
    data: bytes = b""
    signature: Signature | None = None

    def __post_init__(self) -> None:
        # Callers building messages from JSON often hold lists; a list would make the value unhashable.
        if type(self.tags) is not tuple:
            object.__setattr__(self, "tags", tuple(self.tags))

    def tag(self, name: str) -> str | None:
        """The value of the first tag named `name`, ignoring case."""
        key = name.lower()
        for t in self.tags:
            if t.name.lower() == key:
                return t.value
        return None

    def tag_values(self, name: str) -> list[str]:
        """Every value of tags named `name` (ignoring case), in order."""
        key = name.lower()
        return [t.value for t in self.tags if t.name.lower() == key]

    @_derived
    def is_process(self) -> bool:
        """Tagged `Type=Process` (kept once computed: the scheduler asks several times per message)."""
        return self.tag("Type") == "Process"

    @_derived
    def content_digest(self) -> Digest:
        full, n = _codec.message_encoding(self)
        return Digest(blake3(full if n == len(full) else memoryview(full)[:n]).digest())

    @_derived
    def id(self) -> MessageId:
        if self.signature is not None:
            return MessageId(blake3(self.signature.value).digest())
        return MessageId(self.content_digest)

    @_derived
    def owner_address(self) -> Address | None:
        return None if self.signature is None else address_of(self.signature.owner)

    def with_signature(self, sig: Signature | None) -> Message:
        if type(self) is not Message:
            return replace(self, signature=sig)
        return _raw_message(self.target, self.anchor, self.tags, self.data, sig)  # ~10x faster than replace

    def validate(self) -> None:
        """Raise `ValidationError` naming the first field outside the accepted limits."""
        if self.target:
            try:
                decode_id(self.target, "target")
            except InvalidIdError as exc:
                raise ValidationError(str(exc)) from None
        if len(self.tags) > MAX_TAGS:
            raise ValidationError(f"too many tags: {len(self.tags)} (at most {MAX_TAGS})")
        _check_text_len(self.anchor, "anchor", 0, MAX_ANCHOR_BYTES)
        for i, t in enumerate(self.tags):
            name, value = t.name, t.value
            # ASCII text (the common case; `isascii` is O(1)) is as many UTF-8 bytes as characters.
            if (
                name.isascii()
                and value.isascii()
                and 0 < len(name) <= MAX_TAG_NAME_BYTES
                and len(value) <= MAX_TAG_VALUE_BYTES
            ):
                continue
            _check_text_len(name, f"tag {i} name", 1, MAX_TAG_NAME_BYTES)
            _check_text_len(value, f"tag {i} ({name[:64]!r}) value", 0, MAX_TAG_VALUE_BYTES)
        if self.signature is not None:
            _check_text_len(self.signature.scheme, "signature scheme", 1, 64)


@dataclass(frozen=True)
class Assignment:
    """A scheduler's statement that `message` holds `slot` of `process`'s schedule. All IDs raw."""

    process: bytes
    slot: int
    message: bytes
    timestamp: int
    block_height: int = 0
    block_hash: bytes = b""
    epoch: int = 0
    hash_chain: bytes = b""
    signature: Signature | None = None

    @_derived
    def content_digest(self) -> Digest:
        full, n = _codec.assignment_encoding(self)
        return Digest(blake3(full if n == len(full) else memoryview(full)[:n]).digest())

    @_derived
    def id(self) -> AssignmentId:
        if self.signature is not None:
            return AssignmentId(blake3(self.signature.value).digest())
        return AssignmentId(self.content_digest)

    def with_signature(self, sig: Signature | None) -> Assignment:
        if type(self) is not Assignment:
            return replace(self, signature=sig)
        return _raw_assignment(
            self.process,
            self.slot,
            self.message,
            self.timestamp,
            self.block_height,
            self.block_hash,
            self.epoch,
            self.hash_chain,
            sig,
        )

    def validate(self) -> None:
        for name in ("process", "message", "hash_chain"):
            value: bytes = getattr(self, name)
            if len(value) != ID_LEN:
                raise ValidationError(f"{name}: an ID is {ID_LEN} bytes, got {len(value)}")
        for name in ("slot", "timestamp", "block_height", "epoch"):
            _check_u64(getattr(self, name), name)
        if len(self.block_hash) > MAX_BLOCK_HASH_BYTES:
            raise ValidationError(
                f"block_hash: at most {MAX_BLOCK_HASH_BYTES} bytes, got {len(self.block_hash)}"
            )


@dataclass(frozen=True, slots=True)
class Output:
    data: str = ""
    prompt: str = ""
    print: bool = False


@dataclass(frozen=True, slots=True)
class ResultAssignment:
    """A request, made by process code, to assign an existing message (`message`, text ID) to more
    processes."""

    processes: tuple[str, ...]
    message: str

    def __post_init__(self) -> None:
        if type(self.processes) is not tuple:
            object.__setattr__(self, "processes", tuple(self.processes))


@dataclass(frozen=True)
class Result:
    """What computing one slot produced. `error` is empty when the slot succeeded."""

    output: Output = field(default_factory=Output)
    messages: tuple[Message, ...] = ()
    spawns: tuple[Message, ...] = ()
    assignments: tuple[ResultAssignment, ...] = ()
    error: str = ""
    gas_used: int = 0
    """ao's `GasUsed`: what the slot's `metering.usegas` calls added up to (a metered WASM binary), the fuel
    it used for a `-metering` format whose binary is not instrumented, else 0 (docs/wasm.md, GasUsed).
    Deterministic: it counts what the code did, never time. Part of the digest."""

    def __post_init__(self) -> None:
        for name in ("messages", "spawns", "assignments"):
            value = getattr(self, name)
            if type(value) is not tuple:
                object.__setattr__(self, name, tuple(value))

    @_derived
    def digest(self) -> Digest:
        return Digest(blake3(_codec.encode_result(self)).digest())

    def to_json(self) -> dict[str, Any]:
        """aoconnect's shape. A message's `Data` is its UTF-8 text when the bytes are valid UTF-8, else
        their unpadded base64url (process code produces text; binary data is rare and marked by nothing
        but failing to decode, as in aoconnect, so consumers that care should use the binary API)."""
        return {
            "Output": {"data": self.output.data, "prompt": self.output.prompt, "print": self.output.print},
            "Messages": [message_to_json(m) for m in self.messages],
            "Spawns": [message_to_json(m) for m in self.spawns],
            "Assignments": [{"Processes": list(a.processes), "Message": a.message} for a in self.assignments],
            "Error": self.error,
            "GasUsed": self.gas_used,
        }


def message_to_json(m: Message) -> dict[str, Any]:
    """A message as aoconnect shows outbox entries: Target, Anchor, Tags, Data (see `Result.to_json`)."""
    return {
        "Target": m.target,
        "Anchor": m.anchor,
        "Tags": [{"name": t.name, "value": t.value} for t in m.tags],
        "Data": data_to_text(m.data),
    }


def data_to_text(data: bytes) -> str:
    """UTF-8 text when `data` decodes, else unpadded base64url."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return b64url_encode(data)


@dataclass(frozen=True)
class Location:
    """A signed record saying where the scheduler with `address` can be reached. A record with a higher
    nonce replaces a lower one; it is valid for `ttl_ms` after `timestamp` (ms)."""

    address: str
    url: str
    nonce: int
    ttl_ms: int
    timestamp: int
    signature: Signature | None = None

    @_derived
    def content_digest(self) -> Digest:
        return Digest(blake3(_codec.encode_location_content(self)).digest())

    @_derived
    def id(self) -> Digest:
        if self.signature is not None:
            return Digest(blake3(self.signature.value).digest())
        return self.content_digest

    def with_signature(self, sig: Signature | None) -> Location:
        return replace(self, signature=sig)

    def validate(self) -> None:
        try:
            decode_id(self.address, "address")
        except InvalidIdError as exc:
            raise ValidationError(str(exc)) from None
        _check_text_len(self.url, "url", 1, 2048)
        for name in ("nonce", "ttl_ms", "timestamp"):
            _check_u64(getattr(self, name), name)

    @property
    def expires_at(self) -> int:
        return self.timestamp + self.ttl_ms


# -- raw constructors for the codec -------------------------------------------------------------------------
# A frozen dataclass's __init__ sets each field through object.__setattr__; for a decoder building ten-odd
# objects per message that is most of its time. These set the fields directly (slot descriptors, or the
# instance __dict__), ~3-5x faster. No checks and no __post_init__: the arguments must already be exactly
# what the fields hold (tuples, bytes, str, int). tests/test_model.py checks they build equal objects and
# cover every field. Tags are built in the decoder's loop with the two slot setters below.

_new = object.__new__
# The slots' member descriptors, taken from the class dicts (`Tag.name` would read the same descriptor, but
# type checkers take it for the field's value).
_set_tag_name = Tag.__dict__["name"].__set__
_set_tag_value = Tag.__dict__["value"].__set__
_set_sig_scheme = Signature.__dict__["scheme"].__set__
_set_sig_owner = Signature.__dict__["owner"].__set__
_set_sig_value = Signature.__dict__["value"].__set__


def _raw_signature(scheme: str, owner: bytes, value: bytes) -> Signature:
    s: Signature = _new(Signature)
    _set_sig_scheme(s, scheme)
    _set_sig_owner(s, owner)
    _set_sig_value(s, value)
    return s


def _raw_message(
    target: str, anchor: str, tags: tuple[Tag, ...], data: bytes, signature: Signature | None
) -> Message:
    m: Message = _new(Message)
    d = m.__dict__
    d["target"] = target
    d["anchor"] = anchor
    d["tags"] = tags
    d["data"] = data
    d["signature"] = signature
    return m


def _raw_assignment(
    process: bytes,
    slot: int,
    message: bytes,
    timestamp: int,
    block_height: int,
    block_hash: bytes,
    epoch: int,
    hash_chain: bytes,
    signature: Signature | None,
) -> Assignment:
    a: Assignment = _new(Assignment)
    d = a.__dict__
    d["process"] = process
    d["slot"] = slot
    d["message"] = message
    d["timestamp"] = timestamp
    d["block_height"] = block_height
    d["block_hash"] = block_hash
    d["epoch"] = epoch
    d["hash_chain"] = hash_chain
    d["signature"] = signature
    return a


def _check_text_len(text: str, what: str, lo: int, hi: int) -> None:
    try:
        n = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError(f"{what}: not valid UTF-8 text (lone surrogate)") from None
    if n < lo:
        raise ValidationError(f"{what}: empty" if lo == 1 else f"{what}: at least {lo} bytes, got {n}")
    if n > hi:
        raise ValidationError(f"{what}: at most {hi} bytes of UTF-8, got {n}")


def _check_u64(value: int, what: str) -> None:
    if not 0 <= value <= MAX_U64:
        raise ValidationError(f"{what}: {value} is not an unsigned 64-bit integer")


# The codec encodes these classes and imports this module, so it is imported last (when this module is
# complete); a function-level import would cost ~1 µs per digest.
from aonode import codec as _codec  # noqa: E402
