"""What AO users rely on, for each real AOS binary (conftest.FIXTURES), through a real node over gRPC: eval,
state across slots, handlers and replies, the Inbox, errors, print, Send/Spawn, a 50 MiB string and a
100k-element table under the module's limits, a restart and an independent replay giving the same results.

One node and one process per fixture (module scope); the tests of a fixture run in order against it, and
the last one restarts the node and replays the schedule in another OS process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.compute.artifacts import ARTIFACTS
from aonode.crypto import Ed25519Signer
from aonode.devices.wasm import formats, legacy_eh, runtime, weavedrive
from aonode.ids import encode_id
from aonode.model import Result
from store import LmdbStore
from tests.conformance.conftest import FIXTURES, ROOT, Fixture, require
from tests.conftest import ServerThread, make_config

USER = Ed25519Signer.generate()
DEVICE = "wasm64@1.0"


class Session:
    """A node, a client, and one AOS process of the fixture; every computed slot's digest."""

    def __init__(self, fixture: Fixture, data: Path, tagged: bool = True) -> None:
        self.fixture = fixture
        self.data = data
        self.server: ServerThread | None = None
        self.start()
        tags = fixture.tags() if tagged else []
        module = build_module(USER, require(fixture), "application/wasm", tags)
        self.client.publish(module)
        process = build_process(
            USER, module=encode_id(module.id), scheduler=self.client.info().address, device=DEVICE
        )
        self.client.schedule(process)
        self.pid = encode_id(process.id)
        self.digests: dict[int, str] = {}
        self.slot0 = self.computed(0)

    def computed(self, slot: int) -> Result:
        done = self.client.compute(self.pid, slot)
        self.digests[slot] = done.result_digest
        return done.result

    def send(self, action: str, data: str = "", tags: tuple[tuple[str, str], ...] = ()) -> Result:
        message = build_message(USER, self.pid, action=action, data=data.encode(), tags=tags)
        return self.computed(self.client.schedule(message).slot)

    def eval(self, code: str) -> Result:
        return self.send("Eval", code)

    def output(self, result: Result) -> str:
        """The eval's output as text (AOS 1 answers `{"output": ..., "prompt": ...}` as JSON)."""
        text = result.output.data
        if not self.fixture.aos2 and text.startswith("{"):
            try:
                value = json.loads(text).get("output", "")
            except ValueError:
                return text
            return value if isinstance(value, str) else json.dumps(value)
        return text

    def close(self) -> None:
        if self.server is not None:
            self.client.close()
            self.server.stop()
            self.server = None

    def start(self) -> None:
        self.server = ServerThread(make_config(self.data, snapshot_every=4)).start()
        self.client = NodeClient(self.server.address, timeout=300)


@pytest.fixture(scope="module", params=FIXTURES, ids=[f.name for f in FIXTURES])
def aos(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    fixture: Fixture = request.param
    require(fixture)
    # A module compiled (or translated) by an earlier test of this pytest process is served from memory and
    # never written to the new node's wasm-cache: start cold, as a node's own process does.
    runtime.clear_module_cache()
    legacy_eh.clear_cache()
    session = Session(fixture, tmp_path_factory.mktemp(fixture.name) / "node")
    try:
        yield session
    finally:
        session.close()


def test_slot0_boots_trusted(aos: Session) -> None:
    assert aos.slot0.error == ""
    assert "not trusted" not in aos.slot0.output.data


def test_return_1_plus_1(aos: Session) -> None:
    result = aos.eval("return 1+1")
    assert result.error == ""
    assert aos.output(result) == "2"


def test_gas_used_is_reported_as_ao_does(aos: Session) -> None:
    """ao's loader adds the glue's `gas.used` to every result: the `metering.usegas` total of a metered
    binary (refilled to 0 before each call), 0 for one that never calls it."""
    first = aos.eval("return 3+4")
    second = aos.eval("return 3+4")
    if aos.fixture.name == "wasm32-metered":
        assert first.gas_used > 1_000_000  # ~2e8 per eval
        assert second.gas_used > 0
    else:
        assert first.gas_used == second.gas_used == 0


def test_state_is_kept_across_slots(aos: Session) -> None:
    assert aos.eval("Counter = 41").error == ""
    assert aos.output(aos.eval("Counter = Counter + 1; return Counter")) == "42"
    assert aos.output(aos.eval("return Counter")) == "42"


def test_a_handler_replies(aos: Session) -> None:
    code = (
        'Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(msg) '
        'if msg.reply then msg.reply({ Data = "pong" }) else ao.send({ Target = msg.From, Data = "pong" }) '
        "end end)"
    )
    assert aos.eval(code).error == ""
    result = aos.send("Ping")
    assert result.error == ""
    replies = [m for m in result.messages if m.data == b"pong"]
    assert replies and replies[0].target == USER.address


def test_unhandled_messages_go_to_the_inbox(aos: Session) -> None:
    before = int(aos.output(aos.eval("return #Inbox")))
    assert aos.send("Nobody-Handles-This", "hello").error == ""
    assert int(aos.output(aos.eval("return #Inbox"))) == before + 1
    assert aos.output(aos.eval("return Inbox[#Inbox].Data")) == "hello"


def test_an_eval_error_is_reported_and_the_process_continues(aos: Session) -> None:
    failed = aos.eval('error("conformance-boom")')
    assert "conformance-boom" in failed.error + failed.output.data
    assert aos.output(aos.eval("return Counter")) == "42"


def test_print_output(aos: Session) -> None:
    assert "printed-by-aos" in aos.eval('print("printed-by-aos")').output.data


def test_send_and_spawn(aos: Session) -> None:
    sent = aos.eval('Send({ Target = ao.id, Action = "Note", Data = "sent-data" })')
    assert sent.error == ""
    assert [m.data for m in sent.messages] == [b"sent-data"]
    assert sent.messages[0].target == aos.pid
    spawned = aos.eval('Spawn(ao.env.Module.Id, { Data = "child-data" })')
    assert spawned.error == ""
    assert len(spawned.spawns) == 1
    if aos.fixture.aos2:  # AOS 1's Spawn does not carry the Data
        assert spawned.spawns[0].data == b"child-data"


def test_a_50_mib_string_and_a_100k_table(aos: Session) -> None:
    big = aos.eval('local s = string.rep("x", 50 * 1024 * 1024); return #s')
    assert big.error == ""
    assert aos.output(big) == str(50 * 1024 * 1024)
    table = aos.eval("local t = {}; for i = 1, 100000 do t[i] = i end; return #t")
    assert aos.output(table) == "100000"


def test_weavedrive_serves_stored_data(aos: Session) -> None:
    data = b"weavedrive conformance data"
    stored = build_message(USER, aos.pid, data=data)
    aos.client.publish(stored)
    missing = aos.eval('return tostring(io.open("/data/' + "B" * 43 + '"))')
    assert aos.output(missing) == "nil"
    imports = {name for _, name, _ in formats.parse(require(aos.fixture)).imports}
    if "__asyncjs__weavedrive_open" not in imports:
        return  # no WeaveDrive in this binary: io.open of /data/ finds nothing, as above
    code = f'local f = io.open("/data/{encode_id(stored.id)}"); return f:read({len(data)})'
    assert aos.output(aos.eval(code)) == data.decode()
    # seek: Lua's f:seek reaches WASI fd_seek through the binary's libc; "end" is the data's length.
    code = (
        f'local f = io.open("/data/{encode_id(stored.id)}"); local size = f:seek("end"); '
        'local at = f:seek("set", 11); local part = f:read(10); f:close(); '
        'return size .. "|" .. at .. "|" .. part'
    )
    assert aos.output(aos.eval(code)) == f"{len(data)}|11|{data[11:21].decode()}"
    # /tx/<ID>: the stored message's header, as the JS drive builds it from a gateway's /tx/<ID>.
    header = weavedrive.tx_json(stored)
    code = f'local f = io.open("/tx/{encode_id(stored.id)}"); return f:read({len(header)})'
    served = json.loads(aos.output(aos.eval(code)))
    assert served == json.loads(header)
    assert served["ownerAddress"] == stored.owner_address and served["data_size"] == str(len(data))
    assert aos.output(aos.eval('return tostring(io.open("/tx/' + "B" * 43 + '"))')) == "nil"
    # /block/<height>: the block of the slot's own assignment (no block source here: the height is the
    # assignment's timestamp // 120 s); any other height is nil.
    near = int(time.time() * 1000) // 120_000
    code = (
        f"for h = {near - 2}, {near + 2} do local f = io.open('/block/' .. h); "
        "if f then return h .. '|' .. f:read(10 + #tostring(h)) end end; return 'none'"
    )
    message = build_message(USER, aos.pid, action="Eval", data=code.encode())
    assignment = aos.client.schedule(message)
    height = assignment.block_height
    assert aos.output(aos.computed(assignment.slot)) == f'{height}|{{"height":{height}'
    assert aos.output(aos.eval('return tostring(io.open("/block/7"))')) == "nil"


def test_restart_and_an_independent_replay_give_the_same_results(aos: Session) -> None:
    digests = dict(aos.digests)
    assert len(digests) > 10
    aos.close()
    aos.start()
    # A slot computed again after the restart (from the stored snapshots) names the same result.
    for slot in (max(digests), 1, max(digests) - 2):
        assert aos.client.compute(aos.pid, slot).result_digest == digests[slot]
    after = aos.eval("return Counter")
    assert aos.output(after) == "42"
    aos.close()
    # A second node: the schedule recomputed from slot 0 in another OS process (another hash seed).
    env = dict(os.environ, PYTHONHASHSEED="7")
    done = subprocess.run(
        [sys.executable, "-m", "aonode.compute.replay", str(aos.data), aos.pid, "--check"],
        env=env,
        capture_output=True,
        timeout=900,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith('{"slot"')]
    differ = [line for line in lines if line.get("stored") not in (None, "same")]
    assert done.returncode == 0 and not differ, (differ, done.stderr.decode()[-2000:])
    replayed = {line["slot"]: line["digest"] for line in lines}
    assert {slot: replayed[slot] for slot in aos.digests} == aos.digests


def test_the_compiled_module_is_kept_in_the_data_directory(aos: Session) -> None:
    """A restart loads the compiled module from `<data>/wasm-cache` and the legacy-EH translation from the
    store instead of compiling (about a second per AOS binary) and translating again."""
    cached = {path.name.split(".", 1)[1] for path in (aos.data / "wasm-cache").iterdir()}
    assert cached == {"cwasm"}, cached  # translations are no longer files
    aos.close()  # (the node is stopped by the restart test already; one LMDB environment per process)
    store = LmdbStore(make_config(aos.data).store_path)
    try:
        digest = runtime.module_digest(require(aos.fixture))
        row = store.get(ARTIFACTS, b"exnref\0" + digest)
        assert (row is not None) == (aos.fixture.name == "wasm64-legacy-eh")
    finally:
        store.close()


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_the_defaults_let_an_untagged_module_compute(fixture: Fixture, tmp_path: Path) -> None:
    """No Module-Format (detected), no Compute-Limit or Memory-Limit (the node's wasm defaults)."""
    session = Session(fixture, tmp_path / "node", tagged=False)
    try:
        assert session.slot0.error == ""
        assert session.output(session.eval("return 1+1")) == "2"
    finally:
        session.close()
