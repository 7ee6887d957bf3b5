"""`aonode compute PROCESS --slot N` and `aonode dryrun PROCESS ...` against a real node (AOS runtime)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aonode.cli import cli
from aonode.ids import encode_id
from tests.conftest import ServerThread, plain

AOCONNECT_KEYS = ["Output", "Messages", "Spawns", "Assignments", "Error"]


class Cli:
    """The CLI against one node, with one wallet (the owner of the processes it spawns)."""

    def __init__(self, server: ServerThread, tmp_path: Path) -> None:
        self.wallet = tmp_path / "wallet.json"
        self.common = ["--node", server.address]
        self.ok("wallet", "new", "--out", str(self.wallet))

    def invoke(self, *args: str) -> Result:
        """A command without --json; --wallet is added for the commands that sign (dryrun)."""
        wallet = ["--wallet", str(self.wallet)] if args[0] == "dryrun" else []
        return CliRunner().invoke(cli, [*args, *self.common, *wallet])

    def ok(self, *args: str) -> dict[str, Any]:
        result = CliRunner().invoke(cli, [*args, "--json"])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        document = json.loads(result.stdout)
        assert isinstance(document, dict)
        return document

    def run(self, *args: str) -> dict[str, Any]:
        """A command that takes --node and --wallet, with --json."""
        return self.ok(*args, *self.common, "--wallet", str(self.wallet))

    def compute(self, process: str, slot: int) -> dict[str, Any]:
        return self.ok("compute", process, "--slot", str(slot), *self.common)

    def now(self, process: str) -> dict[str, Any]:
        return self.ok("now", process, *self.common)

    def send(self, process: str, action: str, data: str) -> int:
        slot = self.run("send", process, "--action", action, "--data", data)["slot"]
        assert isinstance(slot, int)
        return slot


@pytest.fixture
def cli_(server: ServerThread, tmp_path: Path) -> Cli:
    return Cli(server, tmp_path)


@pytest.fixture
def process(cli_: Cli) -> str:
    pid = cli_.run("spawn")["process"]
    assert isinstance(pid, str) and len(pid) == 43
    return pid


def _shape(document: dict[str, Any]) -> None:
    """aoconnect's names, in its order, with their types."""
    assert [k for k in document if k in AOCONNECT_KEYS] == AOCONNECT_KEYS
    assert set(document["Output"]) == {"data", "prompt", "print"}
    assert isinstance(document["Messages"], list) and isinstance(document["Spawns"], list)
    assert isinstance(document["Assignments"], list) and isinstance(document["Error"], str)


def test_compute_prints_the_slots_result(cli_: Cli, process: str) -> None:
    assert cli_.send(process, "Eval", "X = 42") == 1
    code = "Send({Target = 'T1', Data = 'hi', Kind = 'k'}); Spawn('M1', {Data = 'kid'})\n"
    code += "Assign({Processes = {'P1', 'P2'}, Message = 'M2'}); return X"
    assert cli_.send(process, "Eval", code) == 2
    document = cli_.compute(process, 2)
    _shape(document)
    assert document["process"] == process and document["slot"] == 2
    assert len(document["hashpath"]) == 43 and len(document["result-digest"]) == 43
    assert plain(document["Output"]["data"]) == "Assignment added to outbox.\n42" and document["Error"] == ""
    (sent,) = document["Messages"]
    assert sent["Target"] == "T1" and sent["Data"] == "hi"
    assert {"name": "Kind", "value": "k"} in sent["Tags"]
    (spawned,) = document["Spawns"]
    assert spawned["Data"] == "kid" and {"name": "Module", "value": "M1"} in spawned["Tags"]
    assert document["Assignments"] == [{"Processes": ["P1", "P2"], "Message": "M2"}]
    # An earlier slot stays readable and keeps its own result; asking again gives the same names.
    first = cli_.compute(process, 1)
    assert first["slot"] == 1 and first["Messages"] == [] and first["Assignments"] == []
    assert cli_.compute(process, 2) == document
    # Without --json: what the AOS console shows.
    text = cli_.invoke("compute", process, "--slot", "2")
    assert text.exit_code == 0 and plain(text.stdout) == "Assignment added to outbox.\n42\n"


def test_compute_of_a_failed_slot(cli_: Cli, process: str) -> None:
    slot = cli_.send(process, "Eval", "error('boom')")
    document = cli_.compute(process, slot)
    _shape(document)
    assert "boom" in document["Error"]
    text = cli_.invoke("compute", process, "--slot", str(slot))
    assert text.exit_code == 1 and "boom" in text.stderr and text.stderr.startswith("error: ")


def test_dryrun_answers_and_leaves_no_trace(cli_: Cli, process: str) -> None:
    cli_.send(process, "Eval", "X = 42")
    before = cli_.now(process)
    assert before["slot"] == 1
    dry = cli_.run(
        "dryrun", process, "--action", "Eval", "--data", "X = X + 100; Send({Target = 'T'}); return X"
    )
    _shape(dry)
    assert "slot" not in dry and "hashpath" not in dry  # evaluated, never assigned a slot
    assert plain(dry["Output"]["data"]) == "142" and dry["Error"] == ""
    assert [m["Target"] for m in dry["Messages"]] == ["T"]
    # The next `now` sees nothing of it: same slot, same result, same hashpath.
    assert cli_.now(process) == before
    schedule = cli_.ok("schedule", process, *cli_.common)
    assert [a["slot"] for a in schedule["assignments"]] == [0, 1]
    # The next real slot sees the state as it was.
    slot = cli_.send(process, "Eval", "return X")
    assert slot == 2 and plain(cli_.compute(process, slot)["Output"]["data"]) == "42"
    # Without --json, the console text.
    text = cli_.invoke("dryrun", process, "--action", "Eval", "--data", "return X + 1")
    assert text.exit_code == 0 and plain(text.stdout) == "43\n"


def test_a_slot_beyond_the_schedule_is_a_clear_error(cli_: Cli, process: str) -> None:
    result = cli_.invoke("compute", process, "--slot", "7")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: OUT_OF_RANGE: ")
    assert "slot 7 is beyond the tip (0)" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["compute", "dryrun"])
def test_an_unknown_process_is_a_clear_error(cli_: Cli, command: str) -> None:
    extra = ["--slot", "0"] if command == "compute" else ["--data", "x"]
    unknown = cli_.invoke(command, encode_id(b"\x05" * 32), *extra)
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert unknown.stderr.startswith("error: NOT_FOUND: ") and "not scheduled on this node" in unknown.stderr
    malformed = cli_.invoke(command, "not-a-process", *extra)
    assert malformed.exit_code == 1 and malformed.stdout == ""
    assert malformed.stderr.startswith("error: INVALID_ARGUMENT: ") and "43-character" in malformed.stderr
