"""Scheduler records (aonode/replication/handoff.py): who may sign one, what a malformed one is, and how a
sequence of records decides whose signature counts at each slot."""

from __future__ import annotations

import dataclasses

import pytest

from aonode.client import build_process
from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from aonode.model import Tag
from aonode.replication.handoff import (
    RecordInvalid,
    RecordNotAuthorized,
    SchedulerRecord,
    authorities,
    build_record,
    check_signer,
    decode_record,
    parse_record,
    segments,
    signer_at,
)

OWNER = Ed25519Signer.generate()
AUTHORITY = Ed25519Signer.generate()
STRANGER = Ed25519Signer.generate()
PROCESS = build_process(
    OWNER,
    module=encode_id(b"\x01" * 32),
    scheduler=str(OWNER.address),
    device="lua@5.3a",
    tags=[("Authority", f"someone, {AUTHORITY.address}")],
)
PID = encode_id(PROCESS.id)
NEW = str(Ed25519Signer.generate().address)


def test_the_owner_and_each_authority_may_sign() -> None:
    assert authorities(PROCESS) == {str(OWNER.address), "someone", str(AUTHORITY.address)}
    for signer in (OWNER, AUTHORITY):
        check_signer(parse_record(build_record(signer, PID, NEW, 1, 5)), PROCESS)
    with pytest.raises(RecordNotAuthorized):
        check_signer(parse_record(build_record(STRANGER, PID, NEW, 1, 5)), PROCESS)


def test_a_record_round_trips_through_its_encoding() -> None:
    record = parse_record(build_record(OWNER, PID, NEW, 7, 5, url="127.0.0.1:7400"))
    assert (record.nonce, record.from_slot, record.url, record.signer) == (
        7,
        5,
        "127.0.0.1:7400",
        str(OWNER.address),
    )
    assert decode_record(record.encoded) == record


@pytest.mark.parametrize(
    "change",
    [
        {"tags": (Tag("Action", "Other"),)},
        {"data": b"x"},
    ],
)
def test_malformed_records_are_refused(change: dict[str, object]) -> None:
    message = dataclasses.replace(build_record(OWNER, PID, NEW, 1, 5), **change)  # type: ignore[arg-type]
    with pytest.raises(RecordInvalid):
        parse_record(message)


def _r(nonce: int, from_slot: int, scheduler: str) -> SchedulerRecord:
    return SchedulerRecord(PROCESS.id, scheduler, nonce, from_slot, "", "", b"")


def test_segments_apply_records_in_nonce_order() -> None:
    # B from 10, then C from 20: A signs 0..9, B 10..19, C from 20.
    changes = segments([_r(2, 20, "C"), _r(1, 10, "B")])
    assert changes == [(10, "B"), (20, "C")]
    assert [signer_at("A", changes, s) for s in (0, 9, 10, 19, 20, 99)] == ["A", "A", "B", "B", "C", "C"]
    # A later record starting below an earlier one drops what the earlier scheduler assigned after it.
    assert segments([_r(1, 10, "B"), _r(2, 8, "C")]) == [(8, "C")]
    assert signer_at("A", [], 5) == "A"
