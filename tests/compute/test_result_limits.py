"""`max_result_bytes`: a slot whose result's canonical encoding is over the limit gets an error result
saying so (stored and served like any result, the process goes on); at the limit it is kept. Results
that cannot be encoded at all (text that is not Unicode) become an error result the same way."""

from __future__ import annotations

from aonode.codec import encode_result
from aonode.compute.runner import encode_checked
from aonode.model import Message, Output, Result
from store import MemoryStore
from tests.compute.helpers import engine, process_message, run, scheduler, spawn

BIG = "send:" + "x" * 10_000


def _slot1(limit: int) -> tuple[Result, bytes]:
    mem = MemoryStore()
    sched = scheduler(mem)
    proc = process_message(nonce="limits")
    pid = run(spawn(sched, proc, [BIG, "after"]))
    eng = engine(mem, sched, max_result_bytes=limit)
    try:
        one = run(eng.compute(pid, 1))
        after = run(eng.compute(pid, 2))
        assert not after.result.error  # the process goes on
        assert eng.stored_result(pid, 1) == one
        return one.result, encode_result(one.result)
    finally:
        eng.close()
        mem.close()


def test_the_limit_is_on_the_canonical_encoding_and_exact() -> None:
    result, encoded = _slot1(1 << 20)
    assert not result.error and len(result.messages) == 1
    size = len(encoded)
    kept, _ = _slot1(size)
    assert kept == result  # exactly at the limit: kept
    over, _ = _slot1(size - 1)
    assert over.error == (
        f"the slot's result is {size} bytes encoded, over this node's limit of {size - 1} bytes "
        "(max_result_bytes): it is not kept"
    )
    assert not over.messages and not over.output.data


def test_a_result_that_cannot_be_encoded_becomes_an_error_result() -> None:
    bad = Result(output=Output(data="\ud800"), messages=(Message(data=b"x"),))
    replaced, encoded = encode_checked(bad, 1 << 20)
    assert replaced.error == "the slot's result cannot be encoded: it holds text that is not valid Unicode"
    assert encode_result(replaced) == encoded
