"""`aonode console` through a pty (pexpect) against a real node: eval output, a multi-line function,
`.load`, a message from another wallet printing live, `.exit`; and the completeness heuristic."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect  # type: ignore[import-untyped]  # no stubs shipped; types-pexpect not needed for a test
import pytest

from aonode.cli.console import incomplete
from aonode.client import NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.wallet import create_wallet
from tests.conftest import ServerThread

TIMEOUT = 90  # a loaded 2-core machine: each entry is a schedule + compute


@pytest.mark.parametrize(
    ("code", "more"),
    [
        ("return 1", False),
        ("function f(x)", True),
        ("function f(x)\n  return x\nend", False),
        ("for i = 1, 3 do", True),
        ("if x then y() elseif z then w() end", False),
        ("t = {", True),
        ("s = [[long", True),
        ("s = 'end' -- function", False),
        ("--[[ open comment", True),
        ("repeat x = x + 1", True),
        ("repeat x = x + 1 until x > 3", False),
    ],
)
def test_incomplete_chunks(code: str, more: bool) -> None:
    assert incomplete(code) is more


def test_console_in_a_pty(server: ServerThread, tmp_path: Path) -> None:
    wallet = tmp_path / "w.json"
    owner = create_wallet(wallet)
    with NodeClient(server.address, timeout=60) as client:
        process = build_process(
            owner, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
        )
        client.schedule(process)
        pid = encode_id(process.id)
        script = tmp_path / "script.lua"
        script.write_text('loaded_value = 7\nreturn "loaded " .. loaded_value\n')
        aonode = str(Path(sys.executable).parent / "aonode")
        env = {**os.environ, "HOME": str(tmp_path), "TERM": "dumb"}
        child = pexpect.spawn(
            aonode,
            ["console", pid, "--node", server.address, "--wallet", str(wallet)],
            env=env,
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(40, 200),
        )
        try:
            child.expect("> ")
            child.sendline("return 6 * 7")
            child.expect("42")
            child.expect("> ")
            child.sendline("function double(x)")
            child.expect(">> ")
            child.sendline("  return x * 2")
            child.expect(">> ")
            child.sendline("end")
            child.expect("> ")
            child.sendline("return double(50)")
            child.expect("100")
            child.expect("> ")  # each entry's prompt is consumed before the next entry is typed
            child.sendline(f".load {script}")
            child.expect("loaded 7")
            child.expect("> ")
            child.sendline(
                'Handlers.add("hello", "Hello", function(msg) print("hello from " .. msg.From) end)'
            )
            child.expect("> ")
            other = Ed25519Signer.generate()
            client.schedule(build_message(other, pid, action="Hello", data=b"hi"))
            child.expect(f"hello from {other.address}")
            # The heuristic misses `while` without `do`: Lua's <eof> error points at .editor mode.
            child.sendline("while true")
            child.expect("<eof>")
            child.expect(r"\.editor mode")
            child.expect("> ")
            child.sendline(".editor")
            child.expect(r"\.done")
            child.sendline("local total = 0")
            child.sendline("for i = 1, 4 do total = total + i end")
            child.sendline("return 'total ' .. total")
            child.sendline(".done")
            child.expect("total 10")
            child.expect("> ")
            child.sendline(".exit")
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert child.exitstatus == 0, child.before
        assert (tmp_path / ".aonode" / "history").exists()
