"""The Go client (clients/go): its sign package against tests/vectors/ids.json, and its example program
(spawn, send with a random anchor, subscribe live, compute) against a real node."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.toolchain import GO_CLIENT, GO_IMPORT, check_round_trip, go_env, run
from tests.conftest import ServerThread


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return go_env(tmp_path_factory.mktemp("gopath"))


def test_sign_package_matches_the_vectors(env: dict[str, str]) -> None:
    output = run(["go", "test", "-count=1", f"{GO_IMPORT}/sign"], GO_CLIENT, env)
    assert output.startswith("ok"), output


def test_go_sources_are_formatted_and_vet_clean(env: dict[str, str]) -> None:
    assert run(["gofmt", "-l", "sign", "examples"], GO_CLIENT, env) == ""
    run(["go", "vet", f"{GO_IMPORT}/sign", f"{GO_IMPORT}/examples/roundtrip"], GO_CLIENT, env)


def test_example_round_trip_against_a_node(env: dict[str, str], server: ServerThread, tmp_path: Path) -> None:
    binary = tmp_path / "roundtrip"
    run(["go", "build", "-o", str(binary), f"{GO_IMPORT}/examples/roundtrip"], GO_CLIENT, env)
    output = run([str(binary), "-node", server.address, "-eval", "return 6 * 7"], GO_CLIENT, env)
    check_round_trip(output, server.address)
