"""The Python snippets of clients/README.md and clients/python/README.md run as written (with HOME
pointing at a fresh wallet and the address of a test node)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from aonode.client import NodeClient, build_process
from aonode.ids import encode_id
from aonode.wallet import create_wallet, load_wallet
from tests.clients.toolchain import ROOT
from tests.conftest import ServerThread, plain


def snippet(readme: Path) -> str:
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    assert len(blocks) == 1, readme
    return str(blocks[0])


def run_snippet(code: str, address: str, **names: object) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace("127.0.0.1:7400", address), "README", "exec"), dict(names))
    return out.getvalue()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    create_wallet(tmp_path / ".aonode" / "wallet")
    return tmp_path


def test_python_client_readme_snippet(home: Path, server: ServerThread) -> None:
    assert plain(run_snippet(snippet(ROOT / "clients/python/README.md"), server.address)).strip() == "42"


def test_clients_readme_snippet(home: Path, server: ServerThread) -> None:
    signer = load_wallet(home / ".aonode" / "wallet")
    with NodeClient(server.address) as node:
        info = node.info()
        process = build_process(
            signer, module=info.runtime_module, scheduler=info.address, device=info.runtime_device
        )
        node.schedule(process)
    pid = encode_id(process.id)
    output = run_snippet(snippet(ROOT / "clients/README.md"), server.address, PROCESS_ID=pid)
    assert output.strip() == "1"
