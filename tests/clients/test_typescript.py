"""The TypeScript client (clients/typescript): it type-checks, sign.ts matches tests/vectors/ids.json
(node's test runner), and its example program (spawn, send with a random anchor, subscribe live,
compute) works against a real node."""

from __future__ import annotations

import pytest

from aonode.client import NodeClient
from tests.clients.toolchain import TS_CLIENT, last_json_line, run, ts_ready
from tests.conftest import ServerThread, plain


@pytest.fixture(scope="module")
def built() -> None:
    ts_ready()
    run(["node_modules/.bin/tsc", "-p", "."], TS_CLIENT)


def test_sign_matches_the_vectors(built: None) -> None:
    output = run(["node", "--test", "dist/test/"], TS_CLIENT)
    assert "# fail 0" in output and "# pass 0" not in output, output


def test_example_round_trip_against_a_node(built: None, server: ServerThread) -> None:
    command = ["node", "dist/examples/roundtrip.js", "--node", server.address, "--eval", "return 6 * 7"]
    output = run(command, TS_CLIENT)
    report = last_json_line(output)
    assert plain(report["output"]) == "42"
    assert report["slot"] == 1 and report["verified_slots"] == 2
    with NodeClient(server.address) as client:
        computed = client.compute(report["process"], 1)
    assert plain(computed.result.output.data) == "42"
    assert computed.hashpath == report["hashpath"]
