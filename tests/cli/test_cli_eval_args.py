"""`aonode eval P CODE`: CODE is Lua, read as the code even when it begins with "-"."""

from __future__ import annotations

import pytest

from aonode.cli.compute import eval_

PID = "-" + "a" * 42  # process IDs may begin with "-" too


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["P", "-- a comment\nreturn 1"], "-- a comment\nreturn 1"),
        (["P", "-1"], "-1"),
        (["P", "--json"], None),  # an option of the command stays an option
        (["--node", "h:1", "P", "-x", "--json"], "-x"),
        (["P", "--", "-- c"], "-- c"),
        ([PID, "-- c", "--wallet", "w"], "-- c"),
    ],
)
def test_code_beginning_with_a_dash_is_code(args: list[str], code: str | None) -> None:
    if code is None:  # CODE is missing: the command refuses it (test_cli_edges: exactly one of CODE, --file)
        assert eval_.make_context("eval", args).params["code"] is None
        return
    ctx = eval_.make_context("eval", args)
    assert ctx.params["code"] == code
    assert ctx.params["process"] in ("P", PID)
