"""The libraries AOS ships and blueprints require (.bint, .base64, .crypto, .chance), and the AOS behaviours
of issue 15 measured on the runtime itself: os.time, math.random, normalized tags, lowercase specs, json
floats, module versions."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tests.devices.aos.conftest import T0, Proc


def test_bint_arithmetic(proc: Proc) -> None:
    a, b = 123456789012345678901234567890, 987654321098765432109876543210
    code = (
        "local bint = require('.bint')(256) "
        f"local a, b = bint('{a}'), bint('{b}') "
        "return table.concat({tostring(a * b), tostring(b - a), tostring(a - b), tostring(b // a), "
        "tostring(b % a), tostring(bint.ipow(bint(10), bint(30))), tostring(bint(10000 * 10 ^ 12)), "
        "tostring(bint.__lt(0, a)), tostring(a <= b), tostring(bint.maxinteger() + 1 == bint.mininteger()), "
        "tostring(bint('-7') // bint(2)), tostring(bint('-7') % bint(2)), bint.tobase(bint(255), 16)}, ' ')"
    )
    expected = [a * b, b - a, a - b, b // a, b % a, 10**30, 10**16, "true", "true", "true", -4, 1, "ff"]
    assert proc.ok(code).split(" ") == [str(x) for x in expected]
    assert proc.ok("return tostring(require('.bint')(256)(1e22))") == str(10**22)
    assert proc.ok("return tostring(require('.bint')(256).maxinteger())") == str(2**255 - 1)


def test_bint_errors(proc: Proc) -> None:
    assert "cannot be represented" in proc.eval("return require('.bint')(256)('12x')").error
    assert "divide by zero" in proc.eval("local b = require('.bint')(256) return b(1) // b(0)").error


@pytest.mark.parametrize("data", [b"", b"ao", b"abc", bytes(range(256)) * 2])
def test_digests_match_hashlib(proc: Proc, data: bytes) -> None:
    hexdata = data.hex()
    code = (
        "local c = require('.crypto') local d = c.utils.hex.hexToString('" + hexdata + "') "
        "local s = c.utils.stream.fromString(d) "
        "return table.concat({c.digest.sha1(s).asHex(), c.digest.md5(d).asHex(), "
        "c.digest.sha2_256(d).asHex(), c.digest.sha2_512(d).asHex(), c.digest.sha3_256(d).asHex(), "
        "c.digest.sha3_512(d).asHex(), c.digest.blake2b(d).asHex(), c.digest.blake2b(d, 32, 'k').asHex(), "
        "c.mac.createHmac(d, 'key', 'sha256').asHex(), c.mac.createHmac(d, 'key', 'sha1').asHex(), "
        "c.mac.createHmac(d, 'key', 'md5').asHex(), c.mac.createHmac(d, 'key', 'sha512').asHex()}, ' ')"
    )
    expected = [
        hashlib.sha1(data).hexdigest(),
        hashlib.md5(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
        hashlib.sha512(data).hexdigest(),
        hashlib.sha3_256(data).hexdigest(),
        hashlib.sha3_512(data).hexdigest(),
        hashlib.blake2b(data).hexdigest(),
        hashlib.blake2b(data, digest_size=32, key=b"k").hexdigest(),
        hmac.new(b"key", data, "sha256").hexdigest(),
        hmac.new(b"key", data, "sha1").hexdigest(),
        hmac.new(b"key", data, "md5").hexdigest(),
        hmac.new(b"key", data, "sha512").hexdigest(),
    ]
    assert proc.ok(code).split(" ") == expected


def test_keccak_and_pbkdf2(proc: Proc) -> None:
    # keccak256("ao") as AOS's crypto documentation gives it
    assert proc.ok("return require('.crypto').digest.keccak256('ao').asHex()") == (
        "76da52eec05b749b99d6e62bb52333c1569fe75284e6c82f3de12a4618be00d6"
    )
    # keccak512("ao") as pycryptodome's Crypto.Hash.keccak and the AOS fixtures' own .crypto give it
    assert proc.ok("return require('.crypto').digest.keccak512('ao').asHex()") == (
        "046fbfad009a12cef9ff00c2aac361d004347b2991c1fa80fba5582251b8e0be"
        "8def0283f45f020d4b04ff03ead9f6e7c43cc3920810c05b33b4873b99affdea"
    )
    got = proc.ok("return require('.crypto').kdf.pbkdf2('pw', 'salt', 50, 40, 'sha256').asHex()")
    assert got == hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 50, 40).hex()


def test_base64(proc: Proc) -> None:
    data = bytes(range(256))
    code = (
        "local b = require('.base64') local s = require('.crypto').utils.hex.hexToString('"
        + data.hex()
        + "') return b.encode(s) .. ' ' .. tostring(b.decode(b.encode(s)) == s)"
    )
    assert proc.ok(code) == base64.b64encode(data).decode() + " true"


def test_os_time_is_the_timestamp_in_ms(proc: Proc) -> None:
    expected = str(T0 + (proc.slot + 1) * 1000)
    assert proc.ok("return os.time()") == expected
    assert proc.ok("return os.time({year = 2000, month = 1, day = 1, hour = 0})") == "946684800"


def test_math_random_is_the_seeded_mersenne_twister(proc: Proc) -> None:
    # AOS's chance: MT19937; the first output for seed 5489 is 3499211612 (the reference value).
    assert proc.ok("local c = require('.chance') c.seed(5489) return c.int32()") == "3499211612"
    values = proc.ok(
        "local t = {} for i = 1, 5 do t[i] = math.random(1, 100) end return table.concat(t, ',')"
    )
    assert all(1 <= int(v) <= 100 for v in values.split(","))
    assert proc.ok("return Seeded") == "true"
    assert 0 <= float(proc.ok("return math.random()")) < 1


def test_tags_under_canonical_names_and_lowercase_specs(proc: Proc) -> None:
    proc.ok(
        "Handlers.add('lower', {action = 'Ping'}, function(msg) print('pong ' .. msg.Tags['Data-Protocol'] "
        ".. ' ' .. msg['X-Custom'] .. ' ' .. msg['x-CUSTOM']) end)"
    )
    r = proc.send([("Action", "Ping"), ("Data-PROTOCOL", "ao"), ("x-CUSTOM", "v")])
    assert r.output.data == "pong ao v v"


def test_json_floats_as_aos(proc: Proc) -> None:
    assert proc.ok("return json.encode({x = 1/3, y = 0.1, z = 2.5})") == (
        '{"x":0.33333333333333,"y":0.1,"z":2.5}'
    )


def test_module_versions(proc: Proc) -> None:
    assert (
        proc.ok(
            "return table.concat({json._version, Handlers._version, ao._version, Utils._version, "
            "Handlers.utils._version}, ' ')"
        )
        == "0.1.2 0.0.5 0.0.6 0.0.5 0.0.2"
    )


def test_utils_and_handlers_utils(proc: Proc) -> None:
    assert (
        proc.ok("return Utils.capitalize('hELLO') .. Utils.normalize('data-PROTOCOL')")
        == "HelloData-Protocol"
    )
    proc.ok("Handlers.add('m', Handlers.utils.hasMatchingTag('Action', 'M'), Handlers.utils.reply('got'))")
    r = proc.send([("Action", "M")])
    assert [m.data for m in r.messages] == [b"got"]


def test_library_work_is_metered(proc: Proc) -> None:
    # The libraries are Lua: a digest of a large input runs out of the instruction budget (1e8 by
    # default), it does not run unmetered; the process goes on.
    r = proc.eval("return require('.crypto').digest.sha2_256(string.rep('x', 16 * 1024 * 1024)).asHex()")
    assert "instruction limit exceeded" in r.error
    assert proc.ok("return 1 + 1") == "2"


def test_bint_bitwise_division_and_predicates(proc: Proc) -> None:
    # The rest of the .bint API docs/runtime.md lists, against Python integers (two's complement at 256 bits).
    a, b, m = 123456789012345678901234567890, 98765432109876543210, 2**256
    code = (
        "local bint = require('.bint')(256) "
        f"local a, b = bint('{a}'), bint('{b}') "
        "local q, r = bint.tdivmod(-a, b) local uq, ur = bint.udivmod(a, b) "
        "local fq, fr = bint.idivmod(-a, b) "
        "return table.concat({tostring(a & b), tostring(a | b), tostring(a ~ b), tostring(~a), "
        "tostring(a << 100), tostring(a >> 7), tostring(q), tostring(r), tostring(uq), tostring(ur), "
        "tostring(fq), tostring(fr), tostring(bint.upowmod(a, bint(65537), b)), tostring(bint('0xff')), "
        "tostring(bint.tonumber(bint(3)) == 3), tostring(bint.iszero(bint.zero())), "
        "tostring(bint.isneg(-a)), tostring(bint.iseven(a)), tostring(bint.isbint(a)), "
        "tostring(bint.max(a, b)), tostring(bint.ult(a, -a)), math.type(a / b)}, ' ')"
    )
    tq = -(a // b) if a % b else -a // b  # truncating division of -a by b
    expected = [
        a & b,
        a | b,
        a ^ b,
        ~a % m - m,
        (a << 100) % m,
        a >> 7,
        tq,
        -a - tq * b,
        a // b,
        a % b,
        -a // b,
        -a % b,
        pow(a, 65537, b),
        255,
        "true",
        "true",
        "true",
        "true",
        "true",
        a,
        "true",
        "float",
    ]
    assert proc.ok(code).split(" ") == [str(x) for x in expected]
