"""The json module: canonical encoding, decoding, round trips (run inside the process)."""

from __future__ import annotations

import json

import pytest

from tests.devices.aos.conftest import Proc


@pytest.mark.parametrize(
    ("lua", "expected"),
    [
        ("{b = 1, a = 2, c = {3, 2, 1}}", '{"a":2,"b":1,"c":[3,2,1]}'),
        ("{}", "[]"),
        ("{1.0, 2.5, -0.0, 1e20, 0.1, 2^53}", "[1,2.5,0,1e+20,0.1,9007199254740992]"),
        ("{math.maxinteger, math.mininteger}", "[9223372036854775807,-9223372036854775808]"),
        ("'a\"b\\\\c\\n\\t\\1'", '"a\\"b\\\\c\\n\\t\\u0001"'),
        ("'héllo'", '"héllo"'),
        ("{t = true, f = false, fn = print}", '{"f":false,"t":true}'),
        ("{{}, {x = {}}}", '[[],{"x":[]}]'),
        ("nil", "null"),
    ],
)
def test_encode(proc: Proc, lua: str, expected: str) -> None:
    assert proc.ok(f"return json.encode({lua})") == expected


@pytest.mark.parametrize(
    "lua",
    [
        "{1, nil, 3}",
        "{[1] = 1, x = 2}",
        "{0/0}",
        "{math.huge}",
        "{print}",
        "(function() local t = {} t.t = t return t end)()",
    ],
)
def test_encode_errors(proc: Proc, lua: str) -> None:
    assert proc.eval(f"return json.encode({lua})").error != ""


def test_decode_and_round_trip(proc: Proc) -> None:
    doc = {
        "name": "x\u00e9\n",
        "list": [1, 2.5, -3, True, False, {"deep": []}],
        "empty": {},
        "n": 12345678901234,
    }
    text = json.dumps(doc)
    proc.ok(f"Doc = json.decode({json.dumps(text)})")
    assert proc.ok("return math.type(Doc.n)") == "integer"
    assert proc.ok("return math.type(Doc.list[2])") == "float"
    back = json.loads(proc.ok("return json.encode(Doc)"))
    assert back == {**doc, "empty": []}
    assert proc.ok(r'return json.decode("\"\\u00e9\\ud83d\\ude00\"")') == "é😀"
    assert proc.ok('return json.decode("[1, null, 3]")[3]') == "3"


@pytest.mark.parametrize("text", ["{", "[1,]", '{"a" 1}', "01", "1 2", '"\\x"', "tru", "", '"abc'])
def test_decode_errors(proc: Proc, text: str) -> None:
    r = proc.eval(f"return json.decode({json.dumps(text)})")
    assert r.error.startswith("\n\nerror:\njson: ") or "expected" in r.error
