"""Generate tests/vectors/ids.json: the test vectors for IDs, encodings, signatures and chains.

    python scripts/gen_vectors.py           # (re)write tests/vectors/ids.json
    python scripts/gen_vectors.py --check   # exit 1 if the file is not what this script would write

The output is deterministic. Ed25519 uses a fixed seed (bytes 0..31) and signs deterministically. RSA
keys and RSA-PSS signatures cannot be derived from a seed, so the RSA key is generated once and kept in
the vectors file, and so are the RSA-PSS signature values: a rerun reuses them as long as they still
verify for the recomputed content digest, so regenerating changes nothing unless the encoding changed.
docs/ids.md explains every field; tests/test_vectors.py checks the file against the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aonode.codec import (  # noqa: E402
    encode_assignment,
    encode_assignment_content,
    encode_location,
    encode_location_content,
    encode_message,
    encode_message_content,
    encode_result,
)
from aonode.crypto import (  # noqa: E402
    Ed25519Signer,
    RsaPssSigner,
    Signer,
    sign_assignment,
    sign_location,
    sign_message,
    verify,
)
from aonode.ids import (  # noqa: E402
    address_of,
    b64url_encode,
    blake3_digest,
    decode_id,
    encode_id,
    is_id,
    next_hash_chain,
    next_hashpath,
)
from aonode.model import (  # noqa: E402
    Assignment,
    Location,
    Message,
    Output,
    Result,
    ResultAssignment,
    Signature,
    Tag,
)

VECTORS_PATH = ROOT / "tests" / "vectors" / "ids.json"
FORMAT = "aonode-id-vectors/1"
ED25519_SEED = bytes(range(32))
BASE_TIMESTAMP = 1_700_000_000_000


def _sig_json(sig: Signature | None) -> dict[str, str] | None:
    if sig is None:
        return None
    return {
        "scheme": sig.scheme,
        "owner_b64url": b64url_encode(sig.owner),
        "owner_hex": sig.owner.hex(),
        "value_hex": sig.value.hex(),
    }


def _id_fields(prefix: str, raw: bytes) -> dict[str, str]:
    return {f"{prefix}_hex": raw.hex(), f"{prefix}_b64url": encode_id(raw)}


def message_json(m: Message) -> dict[str, Any]:
    """A message's fields as a vector states them (data in hex, so binary data is exact)."""
    return {
        "target": m.target,
        "anchor": m.anchor,
        "tags": [{"name": t.name, "value": t.value} for t in m.tags],
        "data_hex": m.data.hex(),
        "signature": _sig_json(m.signature),
    }


def _message_vector(name: str, about: str, m: Message) -> dict[str, Any]:
    v: dict[str, Any] = {"name": name, "about": about, "message": message_json(m)}
    v["content_encoding_hex"] = encode_message_content(m).hex()
    v.update(_id_fields("content_digest", m.content_digest))
    v["encoding_hex"] = encode_message(m).hex()
    v.update(_id_fields("id", m.id))
    v["owner_address"] = m.owner_address
    return v


def _assignment_vector(name: str, about: str, a: Assignment) -> dict[str, Any]:
    fields = {
        "process_b64url": encode_id(a.process),
        "slot": a.slot,
        "message_b64url": encode_id(a.message),
        "timestamp": a.timestamp,
        "block_height": a.block_height,
        "block_hash_hex": a.block_hash.hex(),
        "epoch": a.epoch,
        "hash_chain_b64url": encode_id(a.hash_chain),
        "signature": _sig_json(a.signature),
    }
    v: dict[str, Any] = {"name": name, "about": about, "assignment": fields}
    v["content_encoding_hex"] = encode_assignment_content(a).hex()
    v.update(_id_fields("content_digest", a.content_digest))
    v["encoding_hex"] = encode_assignment(a).hex()
    v.update(_id_fields("id", a.id))
    return v


def _location_vector(name: str, about: str, loc: Location) -> dict[str, Any]:
    fields = {
        "address": loc.address,
        "url": loc.url,
        "nonce": loc.nonce,
        "ttl_ms": loc.ttl_ms,
        "timestamp": loc.timestamp,
        "signature": _sig_json(loc.signature),
    }
    v: dict[str, Any] = {"name": name, "about": about, "location": fields}
    v["content_encoding_hex"] = encode_location_content(loc).hex()
    v.update(_id_fields("content_digest", loc.content_digest))
    v["encoding_hex"] = encode_location(loc).hex()
    v.update(_id_fields("id", loc.id))
    return v


def result_json(r: Result) -> dict[str, Any]:
    return {
        "output": {"data": r.output.data, "prompt": r.output.prompt, "print": r.output.print},
        "messages": [message_json(m) for m in r.messages],
        "spawns": [message_json(m) for m in r.spawns],
        "assignments": [{"processes": list(a.processes), "message": a.message} for a in r.assignments],
        "error": r.error,
        "gas_used": r.gas_used,
    }


def _result_vector(name: str, about: str, r: Result) -> dict[str, Any]:
    v: dict[str, Any] = {"name": name, "about": about, "result": result_json(r)}
    v["encoding_hex"] = encode_result(r).hex()
    v.update(_id_fields("digest", r.digest))
    v["aoconnect_json"] = r.to_json()
    return v


class _RsaSigner:
    """Wraps the RSA signer so that a signature kept in the previous vectors file is reused when it still
    verifies for the digest being signed (RSA-PSS is randomized; reuse keeps reruns byte-identical)."""

    def __init__(self, inner: RsaPssSigner, previous: list[bytes]) -> None:
        self.inner = inner
        self.scheme = inner.scheme
        self.owner = inner.owner
        self.address = inner.address
        self.previous = previous

    def sign(self, digest: bytes) -> bytes:
        for value in self.previous:
            if verify(Signature(self.scheme, self.owner, value), digest):
                return value
        return self.inner.sign(digest)


def _previous_rsa(existing: dict[str, Any] | None) -> tuple[RsaPssSigner, list[bytes]]:
    if existing is not None:
        rsa = RsaPssSigner.from_jwk(existing["keys"]["rsa"]["jwk"])
        values = []
        for group in ("messages", "assignments", "locations"):
            for v in existing.get(group, []):
                sig = v.get(group[:-1], {}).get("signature")
                if sig and sig["scheme"] == rsa.scheme:
                    values.append(bytes.fromhex(sig["value_hex"]))
        return rsa, values
    return RsaPssSigner.generate(4096), []


def _key_json(signer: Signer, jwk: dict[str, str], extra: dict[str, str]) -> dict[str, Any]:
    return {
        "scheme": signer.scheme,
        **extra,
        "owner_hex": signer.owner.hex(),
        "owner_b64url": b64url_encode(signer.owner),
        "address": signer.address,
        "jwk": jwk,
    }


INVALID_IDS = [
    ("", "empty"),
    ("A" * 42, "42 characters"),
    ("A" * 44, "44 characters"),
    ("A" * 42 + "=", "padding character"),
    ("A" * 41 + "==", "padding"),
    ("A" * 42 + "+", "'+' is standard base64, not base64url"),
    ("A" * 42 + "/", "'/' is standard base64, not base64url"),
    ("A" * 42 + " ", "whitespace"),
    (" " + "A" * 42, "leading whitespace"),
    ("A" * 21 + "\n" + "A" * 21, "embedded newline"),
    ("A" * 42 + "B", "non-zero unused trailing bits (the last character must be one of AEIMQUYcgkosw048)"),
    ("_" * 43, "non-zero unused trailing bits"),
    ("A" * 42 + "é", "non-ASCII"),
]

VALID_IDS = [
    ("A" * 43, bytes(32)),
    ("_" * 42 + "8", b"\xff" * 32),
    ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", bytes(range(32))),
]


def _check_id_tables() -> None:
    # The ID tables are written by hand, so that they are independent of the code; check them here.
    for text, raw in VALID_IDS:
        if encode_id(raw) != text or decode_id(text) != raw:
            raise SystemExit(f"VALID_IDS: {text!r} is not the text form of {raw.hex()}")
    for text, _ in INVALID_IDS:
        if is_id(text):
            raise SystemExit(f"INVALID_IDS: {text!r} is accepted by decode_id")


def build(existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """The vectors document; `existing` (the current file, if any) supplies the RSA key and signatures."""
    _check_id_tables()
    ed = Ed25519Signer.from_private_bytes(ED25519_SEED)
    rsa_key, rsa_previous = _previous_rsa(existing)
    rsa = _RsaSigner(rsa_key, rsa_previous)

    module_id = blake3_digest(b"aonode test vector module")
    process = sign_message(
        Message(
            tags=(
                Tag("Data-Protocol", "ao"),
                Tag("Variant", "ao.TN.1"),
                Tag("Type", "Process"),
                Tag("Module", encode_id(module_id)),
                Tag("Scheduler", ed.address),
                Tag("Execution-Device", "lua@5.3a"),
            ),
            data=b"-- process data\n",
        ),
        ed,
    )
    pid = process.id
    pid_text = encode_id(pid)
    empty = Message()
    unsigned = Message(target=pid_text, tags=(Tag("Action", "Eval"),), data=b"1 + 1")
    ed_msg = sign_message(
        Message(
            target=pid_text,
            anchor="anchor-0001",
            tags=(
                Tag("Action", "Ping"),
                Tag("Greeting", "héllo wörld ✓ 日本"),
                Tag("Authority", "one"),
                Tag("authority", "two"),
                Tag("Empty-Value", ""),
            ),
            data=bytes(range(256)),
        ),
        ed,
    )
    rsa_msg = sign_message(
        Message(target=pid_text, tags=(Tag("Action", "Transfer"), Tag("Quantity", "100")), data=b"rsa"),
        rsa,
    )

    messages = [
        _message_vector("empty", "Message() with every field empty, unsigned.", empty),
        _message_vector(
            "process-ed25519",
            "A Process message (Type=Process, empty target) signed with the Ed25519 key. Its ID is the "
            "process ID used by the assignments, hash chain and hashpath below.",
            process,
        ),
        _message_vector(
            "unsigned",
            "An unsigned message to the process: its ID is its content digest.",
            unsigned,
        ),
        _message_vector(
            "ed25519",
            "A message signed with the Ed25519 key: anchor, non-ASCII tag value, repeated tag names "
            "differing in case, an empty tag value, binary data (bytes 0..255). The signature is "
            "deterministic: re-signing must give exactly signature.value_hex.",
            ed_msg,
        ),
        _message_vector(
            "rsa-pss-sha512",
            "A message signed with the RSA-4096 key (RSA-PSS, SHA-512, MGF1-SHA-512, salt 64). RSA-PSS is "
            "randomized: verify signature.value_hex against content_digest; a fresh signature will differ.",
            rsa_msg,
        ),
    ]

    # The schedule of the process: slots 0..2 hold the process itself, then `unsigned`, then `ed_msg`.
    scheduled = [process, unsigned, ed_msg]
    assignments: list[Assignment] = []
    chain_steps = []
    path_steps = []
    chain: bytes = pid
    path: bytes = pid
    for slot, m in enumerate(scheduled):
        chain = next_hash_chain(chain, m.id)
        a = sign_assignment(
            Assignment(
                process=pid,
                slot=slot,
                message=m.id,
                timestamp=BASE_TIMESTAMP + slot * 1000,
                block_height=1_500_000 + slot,
                block_hash=b"" if slot < 2 else bytes(range(48)),
                epoch=0,
                hash_chain=chain,
            ),
            ed,
        )
        assignments.append(a)
        path = next_hashpath(path, a.id)
        chain_steps.append(
            {"slot": slot, **_id_fields("message_id", m.id), **_id_fields("hash_chain", chain)}
        )
        path_steps.append({"slot": slot, **_id_fields("assignment_id", a.id), **_id_fields("hashpath", path)})

    location = sign_location(
        Location(
            address="",
            url="https://su.example.org:7400",
            nonce=7,
            ttl_ms=86_400_000,
            timestamp=BASE_TIMESTAMP,
        ),
        ed,
    )

    full_result = Result(
        output=Output(data="pong", prompt="aos> ", print=True),
        messages=(Message(target=pid_text, tags=(Tag("Action", "Pong"),), data=b"pong"),),
        spawns=(
            Message(tags=(Tag("Type", "Process"), Tag("Module", encode_id(module_id))), data=b"\x00\xff"),
        ),
        assignments=(ResultAssignment((pid_text,), encode_id(unsigned.id)),),
        error="",
    )
    error_result = Result(error='[string "aos"]:1: boom')
    metered_result = Result(output=Output(data="2"), gas_used=212_345_678)

    return {
        "format": FORMAT,
        "about": (
            "Test vectors for aonode IDs and canonical encodings. Layouts and rules: docs/ids.md. "
            "Conventions: *_hex is lowercase hex of raw bytes; *_b64url is unpadded base64url; IDs are shown "
            "both ways; integers are JSON numbers (all below 2^53). Generated by scripts/gen_vectors.py."
        ),
        "keys": {
            "ed25519": _key_json(
                ed,
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": b64url_encode(ed.owner),
                    "d": b64url_encode(ED25519_SEED),
                },
                {"seed_hex": ED25519_SEED.hex()},
            ),
            "rsa": _key_json(rsa, rsa_key.to_jwk(), {"public_exponent": "65537"}),
        },
        "addresses": [
            {"scheme": s.scheme, "owner_b64url": b64url_encode(s.owner), "address": address_of(s.owner)}
            for s in (ed, rsa)
        ],
        "ids": {
            "valid": [{"text": t, "hex": raw.hex()} for t, raw in VALID_IDS],
            "invalid": [{"text": t, "why": why} for t, why in INVALID_IDS],
        },
        "messages": messages,
        "assignments": [
            _assignment_vector(
                f"slot-{a.slot}",
                f"Slot {a.slot} of the process's schedule, signed by the Ed25519 key as scheduler.",
                a,
            )
            for a in assignments
        ],
        "hash_chain": {
            "rule": "hash_chain(n) = blake3(hash_chain(n-1) || message_id(n)); hash_chain(-1) = process ID",
            **_id_fields("process_id", pid),
            "steps": chain_steps,
        },
        "hashpath": {
            "rule": "hashpath(n) = blake3(hashpath(n-1) || assignment_id(n)); hashpath(-1) = process ID",
            **_id_fields("process_id", pid),
            "steps": path_steps,
        },
        "locations": [
            _location_vector(
                "ed25519",
                "The Ed25519 key's scheduler location; address must equal the signer's address.",
                location,
            )
        ],
        "results": [
            _result_vector(
                "full",
                "A result with output, one outbox message, one spawn (binary data), one assignment.",
                full_result,
            ),
            _result_vector("error", "A result carrying only an error.", error_result),
            _result_vector(
                "gas",
                "A metered WASM slot's result: GasUsed is not 0, so AOR2 (AOR1's fields, then u64 gas).",
                metered_result,
            ),
        ],
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the vectors file is not current")
    parser.add_argument("--out", type=Path, default=VECTORS_PATH)
    args = parser.parse_args(argv)
    out: Path = args.out
    existing = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    text = render(build(existing))
    if args.check:
        if existing is None or out.read_text(encoding="utf-8") != text:
            print(f"{out} is not current: run python scripts/gen_vectors.py", file=sys.stderr)
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
