"""Peers and trusted relays: what they are, how an operator's request to change them is checked, and how
they are kept in the store.

Both lists change what the node does on its own (a peer makes it connect out and store what comes back;
a trusted relay may make processes see a `From-Process` its owner key never signed), so changing them at
run time is an **operator action**, exactly like adding a replica (docs/replication.md): a message signed
by the node wallet or an address in `[network] operators`, `Action` = `Add-Peer` / `Remove-Peer` /
`Trust-Relay` / `Untrust-Relay`, naming `Peer` (HOST:PORT) or `Relay` (an address), with `Issued-At` (ms)
within five minutes of the node's clock. A request is spent once used (table `network_spent`, request ID
→ Issued-At, pruned past the window), so a copy cannot be replayed to undo a later change.

Tables: `peers` (HOST:PORT → JSON), `relays` (address → JSON), `network_spent`. Peers and relays from the
configuration (`[[peer]]`, `--peer`, `trusted_relays`) live in memory only: they are re-read at every start,
so editing the configuration is enough to drop one.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from aonode.crypto import verify_message
from aonode.errors import AlreadyExists, InvalidArgument, PermissionDenied
from aonode.ids import InvalidIdError, decode_id
from aonode.model import Message
from store import ReadView, WriteBatch, u64

PEERS = "peers"
RELAYS = "relays"
SPENT = "network_spent"
MAX_SKEW_MS = 5 * 60 * 1000
MAX_PEER_TEXT = 255

ADD_PEER = "Add-Peer"
REMOVE_PEER = "Remove-Peer"
TRUST_RELAY = "Trust-Relay"
UNTRUST_RELAY = "Untrust-Relay"


@dataclass
class Peer:
    url: str
    origin: str = "cli"
    address: str = ""
    last_seen_ms: int = 0
    last_error: str = ""
    added_ms: int = 0

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Peer:
        doc = json.loads(raw)
        return cls(
            **{k: doc[k] for k in ("url", "origin", "address", "last_seen_ms", "last_error", "added_ms")}
        )


@dataclass(frozen=True)
class TrustedRelay:
    address: str
    origin: str = "cli"
    added_ms: int = 0

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> TrustedRelay:
        doc = json.loads(raw)
        return cls(str(doc["address"]), str(doc["origin"]), int(doc["added_ms"]))


def parse_peer(text: str) -> str:
    """`text` as a peer URL (HOST:PORT; a `grpc://` or `http://` prefix and a trailing `/` are dropped),
    or InvalidArgument saying what is wrong."""
    raw = text.strip()
    for scheme in ("grpc://", "http://"):
        if raw.startswith(scheme):
            raw = raw[len(scheme) :]
    raw = raw.rstrip("/")
    shown = text[:64]
    if not raw or len(raw) > MAX_PEER_TEXT:
        raise InvalidArgument(f"peer: expected HOST:PORT (at most {MAX_PEER_TEXT} characters), got {shown!r}")
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"peer: expected HOST:PORT with a port 1..65535, got {shown!r}")
    if not host.isascii() or not host.isprintable() or any(c in host for c in " /?#@\\"):
        raise InvalidArgument(f"peer: {shown!r} is not a host name or IP address")
    return f"{host}:{int(port)}"


def parse_address(text: str) -> str:
    try:
        decode_id(text, "address")
    except (InvalidIdError, InvalidArgument):
        raise InvalidArgument(
            f"relay: expected an address (43 characters of base64url), got {text[:64]!r}"
        ) from None
    return text


def authorize(authorization: Message, action: str, operators: frozenset[str], view: ReadView) -> None:
    """Check an operator's request (module docstring). PermissionDenied for anyone else, InvalidArgument
    for a malformed or stale request, AlreadyExists for one already used."""
    authorization.validate()
    if authorization.signature is None:
        raise PermissionDenied(f"{action}: the request must be signed by an operator of this node")
    verify_message(authorization)
    signer = authorization.owner_address
    if signer is None or str(signer) not in operators:
        raise PermissionDenied(f"{action}: {signer} is not an operator of this node")
    if authorization.tag("Action") != action:
        raise InvalidArgument(f"the request's Action must be {action}")
    issued = authorization.tag("Issued-At") or ""
    now = int(time.time() * 1000)
    if not issued.isascii() or not issued.isdigit() or abs(now - int(issued)) > MAX_SKEW_MS:
        raise InvalidArgument(f"{action}: Issued-At must be the current time in ms (within 5 minutes)")
    if view.get(SPENT, authorization.id) is not None:
        raise AlreadyExists(f"{action}: this request was already used; sign a new one")


def spend(batch: WriteBatch, authorization: Message, view: ReadView) -> None:
    """Mark `authorization` used, and forget spent requests older than the window (they are refused as
    stale anyway)."""
    issued = int(authorization.tag("Issued-At") or 0)
    batch.put(SPENT, authorization.id, u64(issued))
    horizon = int(time.time() * 1000) - 2 * MAX_SKEW_MS
    for key, raw in view.range(SPENT, limit=64):
        if int.from_bytes(bytes(raw), "big") < horizon:
            batch.delete(SPENT, bytes(key))
