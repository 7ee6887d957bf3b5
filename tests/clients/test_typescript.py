"""The TypeScript client (clients/typescript): it type-checks, sign.ts matches tests/vectors/ids.json
(node's test runner), and its example program (spawn, send with a random anchor, subscribe live,
compute) works against a real node."""

from __future__ import annotations

import pytest

from tests.clients.toolchain import TS_CLIENT, check_round_trip, run, ts_ready
from tests.conftest import ServerThread


@pytest.fixture(scope="module")
def built() -> None:
    ts_ready()
    run(["node_modules/.bin/tsc", "-p", "."], TS_CLIENT)


def test_sign_matches_the_vectors(built: None) -> None:
    output = run(["node", "--test", "dist/test/"], TS_CLIENT)
    assert "# fail 0" in output and "# pass 0" not in output, output


def test_example_round_trip_against_a_node(built: None, server: ServerThread) -> None:
    command = ["node", "dist/examples/roundtrip.js", "--node", server.address, "--eval", "return 6 * 7"]
    check_round_trip(run(command, TS_CLIENT), server.address)
