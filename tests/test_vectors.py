"""tests/vectors/ids.json against the code: every value recomputed from the vector's stated fields, byte
for byte; RSA-PSS signatures (randomized) verified. Also: the file is what scripts/gen_vectors.py writes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from blake3 import blake3

from aonode.codec import (
    decode_assignment,
    decode_location,
    decode_message,
    decode_result,
    encode_assignment,
    encode_assignment_content,
    encode_location,
    encode_location_content,
    encode_message,
    encode_message_content,
    encode_result,
)
from aonode.crypto import (
    Ed25519Signer,
    RsaPssSigner,
    sign_assignment,
    sign_message,
    verify,
    verify_assignment,
    verify_location,
    verify_message,
)
from aonode.ids import InvalidIdError, b64url_decode, b64url_encode, decode_id, encode_id
from aonode.model import (
    SCHEME_ED25519,
    Assignment,
    Location,
    Message,
    Output,
    Result,
    ResultAssignment,
    Signature,
    Tag,
)
from aonode.wallet import signer_from_jwk

ROOT = Path(__file__).resolve().parent.parent
VECTORS_PATH = ROOT / "tests" / "vectors" / "ids.json"
V: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def _sig(d: dict[str, str] | None) -> Signature | None:
    if d is None:
        return None
    owner = b64url_decode(d["owner_b64url"])
    assert owner.hex() == d["owner_hex"]
    return Signature(d["scheme"], owner, bytes.fromhex(d["value_hex"]))


def _message(d: dict[str, Any]) -> Message:
    return Message(
        target=d["target"],
        anchor=d["anchor"],
        tags=tuple(Tag(t["name"], t["value"]) for t in d["tags"]),
        data=bytes.fromhex(d["data_hex"]),
        signature=_sig(d["signature"]),
    )


def _check_id(v: dict[str, Any], prefix: str, raw: bytes) -> None:
    assert v[f"{prefix}_hex"] == raw.hex()
    assert v[f"{prefix}_b64url"] == encode_id(raw)


def _ed() -> Ed25519Signer:
    return Ed25519Signer.from_private_bytes(bytes.fromhex(V["keys"]["ed25519"]["seed_hex"]))


def test_format() -> None:
    assert V["format"] == "aonode-id-vectors/1"


def test_keys_and_addresses() -> None:
    ed = _ed()
    k = V["keys"]["ed25519"]
    assert k["owner_hex"] == ed.owner.hex() and b64url_decode(k["owner_b64url"]) == ed.owner
    assert k["address"] == b64url_encode(hashlib.sha256(ed.owner).digest()) == ed.address
    assert signer_from_jwk(k["jwk"]).owner == ed.owner
    r = V["keys"]["rsa"]
    rsa = RsaPssSigner.from_jwk(r["jwk"])
    assert r["owner_hex"] == rsa.owner.hex() and len(rsa.owner) == 512
    assert r["address"] == b64url_encode(hashlib.sha256(rsa.owner).digest()) == rsa.address
    by_scheme = {a["scheme"]: a for a in V["addresses"]}
    assert by_scheme[ed.scheme]["address"] == ed.address
    assert by_scheme[rsa.scheme]["address"] == rsa.address
    for a in V["addresses"]:
        owner = b64url_decode(a["owner_b64url"])
        assert a["address"] == b64url_encode(hashlib.sha256(owner).digest())


def test_ids() -> None:
    for v in V["ids"]["valid"]:
        assert decode_id(v["text"]).hex() == v["hex"]
        assert encode_id(bytes.fromhex(v["hex"])) == v["text"]
    for v in V["ids"]["invalid"]:
        with pytest.raises(InvalidIdError):
            decode_id(v["text"])


@pytest.mark.parametrize("v", V["messages"], ids=lambda v: v["name"])
def test_message_vector(v: dict[str, Any]) -> None:
    m = _message(v["message"])
    content = encode_message_content(m)
    assert content.hex() == v["content_encoding_hex"]
    _check_id(v, "content_digest", blake3(content).digest())
    assert m.content_digest == blake3(content).digest()
    full = encode_message(m)
    assert full.hex() == v["encoding_hex"]
    assert decode_message(full) == m
    if m.signature is None:
        _check_id(v, "id", blake3(content).digest())
        assert v["owner_address"] is None
    else:
        _check_id(v, "id", blake3(m.signature.value).digest())
        assert v["owner_address"] == b64url_encode(hashlib.sha256(m.signature.owner).digest())
        verify_message(m)
        if m.signature.scheme == SCHEME_ED25519:
            # Deterministic: re-signing reproduces the stored value exactly.
            assert sign_message(m.with_signature(None), _ed()) == m
    assert encode_id(m.id) == v["id_b64url"]


@pytest.mark.parametrize("v", V["assignments"], ids=lambda v: v["name"])
def test_assignment_vector(v: dict[str, Any]) -> None:
    f = v["assignment"]
    a = Assignment(
        process=decode_id(f["process_b64url"]),
        slot=f["slot"],
        message=decode_id(f["message_b64url"]),
        timestamp=f["timestamp"],
        block_height=f["block_height"],
        block_hash=bytes.fromhex(f["block_hash_hex"]),
        epoch=f["epoch"],
        hash_chain=decode_id(f["hash_chain_b64url"]),
        signature=_sig(f["signature"]),
    )
    content = encode_assignment_content(a)
    assert content.hex() == v["content_encoding_hex"]
    _check_id(v, "content_digest", blake3(content).digest())
    full = encode_assignment(a)
    assert full.hex() == v["encoding_hex"]
    assert decode_assignment(full) == a
    assert a.signature is not None
    _check_id(v, "id", blake3(a.signature.value).digest())
    verify_assignment(a)
    assert sign_assignment(a.with_signature(None), _ed()) == a


def test_hash_chain_walk() -> None:
    hc = V["hash_chain"]
    pid = decode_id(hc["process_id_b64url"])
    assert pid.hex() == hc["process_id_hex"]
    assert len(hc["steps"]) == 3
    prev = pid
    for step in hc["steps"]:
        mid = decode_id(step["message_id_b64url"])
        prev = blake3(prev + mid).digest()
        _check_id(step, "hash_chain", prev)
    # The assignments carry the same chain and name the same messages.
    for step, a in zip(hc["steps"], V["assignments"], strict=True):
        assert a["assignment"]["hash_chain_b64url"] == step["hash_chain_b64url"]
        assert a["assignment"]["message_b64url"] == step["message_id_b64url"]
    # Slot 0 is the Process message itself.
    process = next(m for m in V["messages"] if m["name"] == "process-ed25519")
    assert hc["steps"][0]["message_id_b64url"] == process["id_b64url"] == hc["process_id_b64url"]


def test_hashpath_walk() -> None:
    hp = V["hashpath"]
    prev = decode_id(hp["process_id_b64url"])
    assert len(hp["steps"]) == 3
    for step, a in zip(hp["steps"], V["assignments"], strict=True):
        assert step["assignment_id_b64url"] == a["id_b64url"]
        prev = blake3(prev + decode_id(step["assignment_id_b64url"])).digest()
        _check_id(step, "hashpath", prev)


@pytest.mark.parametrize("v", V["locations"], ids=lambda v: v["name"])
def test_location_vector(v: dict[str, Any]) -> None:
    f = v["location"]
    loc = Location(f["address"], f["url"], f["nonce"], f["ttl_ms"], f["timestamp"], _sig(f["signature"]))
    content = encode_location_content(loc)
    assert content.hex() == v["content_encoding_hex"]
    _check_id(v, "content_digest", blake3(content).digest())
    full = encode_location(loc)
    assert full.hex() == v["encoding_hex"]
    assert decode_location(full) == loc
    assert loc.signature is not None
    _check_id(v, "id", blake3(loc.signature.value).digest())
    verify_location(loc)
    assert verify(loc.signature, blake3(content).digest())


@pytest.mark.parametrize("v", V["results"], ids=lambda v: v["name"])
def test_result_vector(v: dict[str, Any]) -> None:
    f = v["result"]
    r = Result(
        output=Output(f["output"]["data"], f["output"]["prompt"], f["output"]["print"]),
        messages=tuple(_message(m) for m in f["messages"]),
        spawns=tuple(_message(m) for m in f["spawns"]),
        assignments=tuple(ResultAssignment(tuple(a["processes"]), a["message"]) for a in f["assignments"]),
        error=f["error"],
        gas_used=f["gas_used"],
    )
    full = encode_result(r)
    assert full.hex() == v["encoding_hex"]
    _check_id(v, "digest", blake3(full).digest())
    assert r.digest == blake3(full).digest()
    assert decode_result(full) == r
    assert r.to_json() == v["aoconnect_json"]


def test_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("gen_vectors", ROOT / "scripts" / "gen_vectors.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.render(gen.build(V)) == VECTORS_PATH.read_text(encoding="utf-8"), (
        "tests/vectors/ids.json is stale: run python scripts/gen_vectors.py"
    )
