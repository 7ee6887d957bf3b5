"""`aonode module publish`: a module as an ANS-104 item with AO's module tags, stored (not scheduled) on
the node, and usable by ID in a Process; a WASM file needs a matching --format."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from aonode import ans104
from aonode.cli import cli
from aonode.client import NodeClient
from tests.conftest import ServerThread, plain


def test_publish_a_lua_module_and_spawn_it(server: ServerThread, tmp_path: Path) -> None:
    runner = CliRunner()
    wallet = tmp_path / "w.json"
    assert runner.invoke(cli, ["wallet", "new", "--out", str(wallet)]).exit_code == 0
    source = tmp_path / "m.lua"
    source.write_text(
        "function compute(base, req)\n"
        "  base.results = { output = { data = 'seen ' .. tostring(req.slot) } }\n"
        "  return base\nend\n"
    )
    common = ["--wallet", str(wallet), "--node", server.address]
    done = runner.invoke(
        cli, ["module", "publish", str(source), "--memory-limit", "64-mb", "--json", *common]
    )
    assert done.exit_code == 0, done.output
    module_id = json.loads(done.output)["id"]
    with NodeClient(server.address) as client:
        module = client.get_message(module_id)
        assert isinstance(module, ans104.Ans104Message)
        tags = {t.name: t.value for t in module.tags}
        assert tags["Type"] == "Module" and tags["Module-Format"] == "lua@5.3a"
        assert tags["Input-Encoding"] == "JSON-1" and tags["Memory-Limit"] == "64-mb"
        assert client.status().processes == []  # stored, not scheduled
    spawned = runner.invoke(cli, ["spawn", "--module", module_id, "--json", *common])
    assert spawned.exit_code == 0, spawned.output
    process = json.loads(spawned.output)["process"]
    with NodeClient(server.address) as client:
        assert plain(client.compute(process, 0).result.output.data) == "seen 0"


def test_a_wasm_file_needs_its_format(server: ServerThread, tmp_path: Path) -> None:
    runner = CliRunner()
    wallet = tmp_path / "w.json"
    runner.invoke(cli, ["wallet", "new", "--out", str(wallet)])
    binary = tmp_path / "m.wasm"
    binary.write_bytes(b"\0asm\x01\0\0\0")
    common = ["--wallet", str(wallet), "--node", server.address]
    assert runner.invoke(cli, ["module", "publish", str(binary), *common]).exit_code == 2
    lua = tmp_path / "m.lua"
    lua.write_text("return 1")
    assert runner.invoke(cli, ["module", "publish", str(lua), "--format", "wasm64-x", *common]).exit_code == 2
