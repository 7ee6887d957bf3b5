"""JSON shapes the gateway answers in: plain functions from domain objects to JSON-ready dicts.

Three families, one per kind of client:
- HyperBEAM's (HyperPATHs): an assignment is a flat map with lower-case, dash-separated keys (`slot`,
  `process`, `message`, `timestamp`, `block-height`, `block-hash`, `hash-chain`, `epoch`), a schedule is
  `{"type": "schedule", "process", "continues", "assignments": {"<slot>": assignment}}` (`dev_scheduler`'s
  bundle form), or, asked with `Accept: application/aos-2`, the aos-2 edges form.
- the ao scheduler unit's (`GET /{pid}`, `GET /{message}?process-id=`): `{"page_info", "edges": [{"cursor",
  "node": {"message", "assignment"}}]}` where an assignment is a message whose tags carry `Process`,
  `Epoch`, `Nonce` (the slot), `Hash-Chain`, `Block-Height`, `Timestamp`, `Message`.
- the ao compute unit's result (`Output`, `Messages`, `Spawns`, `Assignments`, `Error`, `GasUsed`).
"""

from __future__ import annotations

from typing import Any

from aonode.ids import b64url_encode, encode_id
from aonode.model import Assignment, Message, Result, data_to_text

AOS2 = "application/aos-2"


def result_json(result: Result) -> dict[str, Any]:
    """ao's compute unit shape (`Result.to_json`, `GasUsed` included)."""
    return result.to_json()


def message_json(message: Message) -> dict[str, Any]:
    """A stored message as the ao scheduler shows one: `id`, `owner` (`address`, `key`), `target`,
    `anchor`, `tags`, `data` (UTF-8 text, else base64url), `signature`."""
    sig = message.signature
    return {
        "id": encode_id(message.id),
        "owner": None
        if sig is None
        else {"address": str(sig.address), "key": b64url_encode(sig.owner), "scheme": sig.scheme},
        "target": message.target or None,
        "anchor": message.anchor or None,
        "tags": [{"name": t.name, "value": t.value} for t in message.tags],
        "data": data_to_text(message.data),
        "signature": None if sig is None else b64url_encode(sig.value),
    }


def assignment_json(a: Assignment) -> dict[str, Any]:
    """HyperBEAM's assignment keys (dev_scheduler_server:do_assign), plus its ID and signer."""
    sig = a.signature
    return {
        "id": encode_id(a.id),
        "process": encode_id(a.process),
        "slot": a.slot,
        "message": encode_id(a.message),
        "timestamp": a.timestamp,
        "block-height": a.block_height,
        "block-hash": b64url_encode(a.block_hash),
        "epoch": a.epoch,
        "hash-chain": encode_id(a.hash_chain),
        "data-protocol": "ao",
        "variant": "ao.N.1",
        "committer": None if sig is None else str(sig.address),
    }


def su_assignment_json(a: Assignment) -> dict[str, Any]:
    """The ao scheduler unit's assignment: a message whose tags carry the assignment's fields."""
    sig = a.signature
    tags = [
        ("Process", encode_id(a.process)),
        ("Epoch", str(a.epoch)),
        ("Nonce", str(a.slot)),
        ("Hash-Chain", encode_id(a.hash_chain)),
        ("Block-Height", str(a.block_height)),
        ("Timestamp", str(a.timestamp)),
        ("Message", encode_id(a.message)),
    ]
    return {
        "id": encode_id(a.id),
        "owner": None if sig is None else {"address": str(sig.address), "key": b64url_encode(sig.owner)},
        "tags": [{"name": n, "value": v} for n, v in tags],
        "data": "",
        "anchor": None,
        "target": None,
        "signature": None if sig is None else b64url_encode(sig.value),
    }


def su_edge(a: Assignment, message: Message | None) -> dict[str, Any]:
    return {
        "cursor": str(a.slot),
        "node": {
            "message": None if message is None else message_json(message),
            "assignment": su_assignment_json(a),
        },
    }


def su_page(assignments: list[Assignment], messages: list[Message], has_next: bool) -> dict[str, Any]:
    held = dict(zip((a.message for a in assignments), messages, strict=False))
    return {
        "page_info": {"has_next_page": has_next},
        "edges": [su_edge(a, held.get(a.message)) for a in assignments],
    }


def hb_schedule(
    process: str, assignments: list[Assignment], messages: list[Message], continues: bool
) -> dict[str, Any]:
    """dev_scheduler's bundle form, JSON-encoded: assignments keyed by slot, each with its `body`."""
    held = dict(zip((a.message for a in assignments), messages, strict=False))
    out: dict[str, Any] = {}
    for a in assignments:
        entry = assignment_json(a)
        body = held.get(a.message)
        if body is not None:
            entry["body"] = message_json(body)
        out[str(a.slot)] = entry
    last = assignments[-1] if assignments else None
    return {
        "type": "schedule",
        "process": process,
        "continues": continues,
        "timestamp": last.timestamp if last else 0,
        "block-height": last.block_height if last else 0,
        "block-hash": b64url_encode(last.block_hash) if last else "",
        "assignments": out,
    }


def aos2_schedule(
    process: str, assignments: list[Assignment], messages: list[Message], continues: bool
) -> dict[str, Any]:
    """dev_scheduler's `application/aos-2` form: edges of `{message, assignment}`."""
    held = dict(zip((a.message for a in assignments), messages, strict=False))
    last = assignments[-1] if assignments else None
    return {
        "page_info": {
            "process": process,
            "has_next_page": continues,
            "timestamp": str(last.timestamp) if last else "0",
            "block-height": str(last.block_height) if last else "0",
            "block-hash": b64url_encode(last.block_hash) if last else "",
        },
        "edges": [
            {
                "cursor": a.slot,
                "node": {
                    "message": message_json(held[a.message]) if a.message in held else None,
                    "assignment": assignment_json(a),
                },
            }
            for a in assignments
        ],
    }


def computed_json(process: str, slot: int, result: Result, hashpath: bytes, digest: bytes) -> dict[str, Any]:
    """A computed slot, HyperPATH style: the process state's public keys (`at-slot`, `results`) with the
    result in ao's shape under `results` (plus `data`, the output's text, as dev_process's
    `results/data`), and `raw`, the same result where aoconnect's mainnet client reads it."""
    shaped = result_json(result)
    return {
        "process": process,
        "at-slot": slot,
        "slot": slot,
        "hashpath": encode_id(hashpath),
        "result-digest": encode_id(digest),
        "results": {**shaped, "data": result.output.data},
        "raw": shaped,
    }
