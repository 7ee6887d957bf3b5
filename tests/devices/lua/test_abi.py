"""lua@5.3a's ABI: HyperBEAM-style modules run unchanged; `req`, `req.body` and `base` carry what DESIGN §5
says; results are read from `base.results`; `ao.*` exists; errors are error Results."""

from __future__ import annotations

import json

import pytest

from aonode.crypto import Ed25519Signer, RsaPssSigner, sign_message
from aonode.devices.base import DeviceError, Limits
from aonode.ids import encode_id
from aonode.model import Message, ResultAssignment, Tag
from tests.devices.lua.helpers import RUNNER, T0, LuaProc

ED = Ed25519Signer.from_private_bytes(b"e" * 32)
RSA = RsaPssSigner.generate(2048)

HYPERBEAM_STYLE = r"""
-- as HyperBEAM's tests write them: state in base, results in base.results
function compute(base, req, opts)
  base.count = (base.count or 0) + 1
  base.results = {
    outbox = {["1"] = {target = req.body.target or "none", data = "pong " .. base.count}},
    output = {data = "count " .. base.count, prompt = "> ", print = true},
  }
  return base
end
"""


def test_hyperbeam_style_module_runs_and_keeps_state() -> None:
    p = LuaProc(HYPERBEAM_STYLE)
    target = encode_id(b"t" * 32)
    r1 = p.send(Message(target=target, tags=(Tag("Action", "Ping"),), data=b"hi"))
    r2 = p.send(Message(target=target, tags=(Tag("Action", "Ping"),), data=b"again"))
    assert not r1.error and not r2.error
    assert (r1.output.data, r1.output.prompt, r1.output.print) == ("count 1", "> ", True)
    assert r2.output.data == "count 2"
    assert [(m.target, m.data, m.tags) for m in r2.messages] == [(target, b"pong 2", ())]
    assert p.device.read_state("count") == 2
    assert p.device.read_state("at-slot") == 2


def test_req_fields() -> None:
    p = LuaProc(RUNNER)
    code = """local base, req = ...
    return string.format('%d|%d|%d|%d|%s|%s|%d|%s|%s', req.slot, req.timestamp, req['block-height'],
      req['block-timestamp'], req['hash-chain'], req.process, req.epoch, req.path, type(req.body))"""
    r = p.run(code)
    chain = encode_id(p.chain)
    expected = f"1|{T0 + 1000}|101|{(T0 + 1000) // 1000}|{chain}|{p.id}|2|compute|table"
    assert r.output.data == expected


BODY_DUMP = """local base, req = ...
local b = req.body
local out = {}
for k, v in pairs(b) do
  if k == 'data' then out[#out + 1] = k .. '=' .. #v
  elseif type(v) == 'string' then out[#out + 1] = k .. '=' .. v
  elseif k == 'authority' then out[#out + 1] = k .. '=[' .. table.concat(v, ',') .. ']'
  else out[#out + 1] = k .. ':' .. type(v) end
end
return table.concat(out, ';')"""


def test_body_fields_unsigned() -> None:
    p = LuaProc(RUNNER)
    m = Message(
        target=p.id,
        anchor="a1",
        tags=(Tag("Action", "Eval"), Tag("Authority", "x"), Tag("Authority", "y"), Tag("From-Process", "fp")),
        data=BODY_DUMP.encode(),
    )
    r = p.send(m)
    fields = dict(
        item.split("=", 1) if "=" in item else item.split(":", 1) for item in r.output.data.split(";")
    )
    assert fields["action"] == "Eval"
    assert fields["authority"] == "[x,y]"
    assert fields["from-process"] == "fp"
    assert fields["target"] == p.id
    assert fields["anchor"] == "a1"
    assert fields["id"] == encode_id(m.id)
    assert fields["commitments"] == "table"
    assert fields["original-tags"] == "table"
    assert fields["data"] == str(len(BODY_DUMP.encode()))
    # keys come in sorted order
    keys = [item.split("=", 1)[0].split(":", 1)[0] for item in r.output.data.split(";")]
    assert keys == sorted(keys)


COMMITMENTS = """local base, req = ...
local b = req.body
local out = {}
for id, c in pairs(b.commitments) do
  out[#out + 1] = id .. '|' .. c.committer .. '|' .. c.alg .. '|' .. c['commitment-device']
end
local tags = {}
for i, t in ipairs(b['original-tags']) do tags[i] = t.name .. '=' .. t.value end
return table.concat(out, ';') .. '#' .. table.concat(tags, ',')"""


@pytest.mark.parametrize("signer", [ED, RSA], ids=["ed25519", "rsa-pss-sha512"])
def test_body_commitments(signer: Ed25519Signer | RsaPssSigner) -> None:
    p = LuaProc(RUNNER)
    m = sign_message(
        Message(tags=(Tag("Action", "X"), Tag("Content-Type", "text/plain")), data=COMMITMENTS.encode()),
        signer,
    )
    r = p.send(m)
    commitment, tags = r.output.data.split("#")
    alg = "ed25519" if signer is ED else "rsa-pss-sha512"
    assert commitment == f"{encode_id(m.id)}|{signer.address}|{alg}|ans104@1.0"
    assert tags == "Action=X,Content-Type=text/plain"


def test_unsigned_message_has_no_commitments() -> None:
    p = LuaProc(RUNNER)
    r = p.run("local base, req = ... return next(req.body.commitments) == nil")
    assert r.output.data == "true"


def test_initial_base() -> None:
    p = LuaProc(RUNNER, tags=[("Name", "proc"), ("Authority", "a1"), ("Authority", "a2")], signer=ED)
    assert p.device.read_state("name") == "proc"
    assert p.device.read_state("authority") == ["a1", "a2"]
    assert p.device.read_state("type") == "Process"
    assert p.device.read_state("at-slot") == -1
    assert p.device.read_state("results") == []
    process = p.device.read_state("process")
    assert process["id"] == p.id and process["data"] == "process"
    assert process["commitments"][p.id]["committer"] == ED.address
    # base.process and base's own fields are separate tables
    r = p.run("local base = ... base.authority[1] = 'changed' return base.process.authority[1]")
    assert r.output.data == "a1"


def test_ao_library() -> None:
    p = LuaProc(RUNNER)
    r = p.run(
        """local base = ...
        assert(type(ao.event) == 'function')
        ao.event('group', {x = 1})
        local t = ao.set({}, 'a/b', 1)
        ao.set(t, {c = 2, d = 'x'})
        local s1, v1 = ao.resolve(t, 'a/b')
        local s2, v2 = ao.resolve(t, 'nope')
        local s3, v3 = ao.resolve('/~meta@1.0/info')
        return table.concat({s1, tostring(v1), s2, tostring(v2), s3, v3, tostring(t.c), t.d}, ',')"""
    )
    assert r.output.data == "ok,1,error,not_found,error,not supported,2,x"


def test_ao_is_merged_into_the_modules_ao() -> None:
    source = "ao = {id = 'mine'}\n" + RUNNER
    p = LuaProc(source)
    r = p.run("return ao.id .. ',' .. type(ao.set) .. ',' .. type(ao.resolve) .. ',' .. type(ao.event)")
    assert r.output.data == "mine,function,function,function"


def test_compute_may_return_status_and_state() -> None:
    p = LuaProc("function compute(base, req) base.results = {output = 'fine'} return 'ok', base end")
    assert p.run("").output.data == "fine"
    q = LuaProc("function compute(base, req) return 'error', {body = 'nope'} end")
    assert q.run("").error == "compute returned status 'error': nope"


def test_non_table_return_is_an_error() -> None:
    p = LuaProc("function compute(base, req) return 42 end")
    assert p.run("").error == "compute must return the state table, not number"


def test_lua_error_is_an_error_result_and_state_is_kept() -> None:
    p = LuaProc(
        """function compute(base, req)
          base.results = {output = {data = tostring(base.n)}}
          if req.body.data == 'fail' then base = {n = 'lost'} error('boom') end
          base.n = (base.n or 0) + 1
          return base
        end"""
    )
    assert p.run("").output.data == "nil"
    r = p.run("fail")
    assert r.error == "module:3: boom"
    assert not r.messages
    assert p.run("").output.data == "1"
    assert p.device.read_state("at-slot") == 3


def test_error_objects_become_text() -> None:
    p = LuaProc(RUNNER)
    assert p.run("error({code = 1})").error == "(error object is a table value)"
    assert p.run("error(setmetatable({}, {__tostring = function() return 'custom' end}))").error == "custom"
    assert p.run("error(42)").error == "42"


def test_results_conversion() -> None:
    p = LuaProc(
        r"""function compute(base, req)
          base.results = {
            output = {data = {b = 1, a = {1, 2}}},
            outbox = {
              [2] = {Target = 'T2', Data = 'second'},
              ['1'] = {target = 'T1', data = {x = 1.5},
                       tags = {{name = 'Z', value = 1}, {name = 'A', value = true}},
                       action = 'Go', ['x-ref'] = 7, onReply = function() end},
              ['10'] = {target = 'T10', tags = {Foo = 'bar', Baz = 2}},
            },
            spawns = {{data = 'code', anchor = 'an'}},
            assignments = {{processes = {'p1', 'p2'}, message = 'm1'}, {Processes = 'p3', Message = 'm2'}},
          }
          return base
        end"""
    )
    r = p.run("")
    assert not r.error
    assert r.output.data == '{"a":[1,2],"b":1}'
    assert [m.target for m in r.messages] == ["T1", "T2", "T10"]
    first = r.messages[0]
    assert first.data == b'{"x":1.5}'
    assert [(t.name, t.value) for t in first.tags] == [
        ("Z", "1"),
        ("A", "true"),
        ("action", "Go"),
        ("x-ref", "7"),
    ]
    assert r.messages[1].data == b"second" and r.messages[1].tags == ()
    assert [(t.name, t.value) for t in r.messages[2].tags] == [("Baz", "2"), ("Foo", "bar")]
    assert [(s.anchor, s.data) for s in r.spawns] == [("an", b"code")]
    assert r.assignments == (ResultAssignment(("p1", "p2"), "m1"), ResultAssignment(("p3",), "m2"))


def test_outbox_as_list_and_binary_data() -> None:
    p = LuaProc(
        r"""function compute(base, req)
          base.results = {outbox = {{target = 'a', data = '\0\255'}, {target = 'b', data = 3.0}}}
          return base
        end"""
    )
    r = p.run("")
    assert [(m.target, m.data) for m in r.messages] == [("a", b"\x00\xff"), ("b", b"3.0")]


@pytest.mark.parametrize(
    ("results", "error"),
    [
        (
            "{outbox = {{target = {}}}}",
            "invalid results: results.outbox[1].target must be a string, not a table",
        ),
        (
            "{outbox = {{data = function() end}}}",
            "invalid results: results.outbox[1].data: cannot convert a function value to text",
        ),
        (
            "(function() local t = {} t.t = t return {output = {data = t}} end)()",
            "invalid results: results.output.data: a table contains itself",
        ),
        ("{outbox = 'x'}", "invalid results: results.outbox must be a table, not a string"),
        (
            "{output = {data = 0/0 > 1 and 1 or {x = 0/0}}}",
            "invalid results: results.output.data: cannot encode nan in JSON",
        ),
        ("{outbox = {{[{}] = 1}}}", "invalid results: results.outbox[1] has a key of type table"),
        ("'nope'", "invalid results: results must be a table, not a string"),
    ],
)
def test_unconvertible_results_are_error_results(results: str, error: str) -> None:
    p = LuaProc(f"function compute(base, req) base.results = {results} return base end")
    r = p.run("")
    assert r.error == error
    assert p.run("").error == error  # and the device goes on


def test_print_is_the_output_when_results_have_none() -> None:
    p = LuaProc("print('loading')\nfunction compute(base) print('a', 1, nil, {}) print(true) return base end")
    r = p.run("")
    assert r.output.data == "a\t1\tnil\ttable: 0x00000001\ntrue"
    assert r.output.print is True
    assert p.run("").output.data == "a\t1\tnil\ttable: 0x00000002\ntrue"


def test_require_from_package_loaded_and_preload() -> None:
    p = LuaProc(
        """package.loaded['.json'] = {name = 'json'}
        package.preload['lazy'] = function(name) return {name = name} end
        """
        + RUNNER
    )
    r = p.run(
        "return require('.json').name .. ',' .. require('lazy').name .. ','"
        " .. tostring(require('lazy') == require('lazy'))"
    )
    assert r.output.data == "json,lazy,true"
    err = p.run("local m = require('socket') return m").error
    assert err.startswith("slot:1: module 'socket' not found")


def test_load_runs_text_in_the_sandbox() -> None:
    p = LuaProc(RUNNER)
    assert p.run("X = 5 return load('return X + 1')()").output.data == "6"
    assert p.run("return load('return X', 'c', 't', {X = 'own env'})()").output.data == "own env"
    assert (
        p.run("return select(2, load('x = = 1'))").output.data
        == "[string \"x = = 1\"]:1: unexpected symbol near '='"
    )


def test_read_state_and_apply_patch() -> None:
    p = LuaProc(RUNNER)
    p.run("local base = ... base.balances = {alice = 10, bob = 5} base.list = {1, 2, 3} base.f = print")
    p.device.apply_patch({"balances": {"carol": 7, "bob": 6}, "list": [9], "new": {"deep": [1, {"x": "y"}]}})
    assert p.device.read_state("balances") == {"alice": 10, "bob": 6, "carol": 7}
    assert p.device.read_state("list") == [9]
    assert p.device.read_state("new/deep/2/x") == "y"
    assert p.device.read_state("f") is None
    assert p.device.read_state("missing/path") is None
    state = p.device.read_state("")
    assert state["at-slot"] == 1 and "process" in state
    r = p.run("local base = ... return base.balances.carol + #base.new.deep")
    assert r.output.data == "9"
    json.dumps(state)  # plain data


def test_apply_patch_refuses_python_objects() -> None:
    p = LuaProc(RUNNER)
    with pytest.raises(DeviceError):
        p.device.apply_patch({"x": object()})


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("function compute( return end", "does not compile: module:1:"),
        ("x = 1", "no global function 'compute'"),
        ("error('at load')", "failed to load: module:1: at load"),
        ("while true do end", "failed to load: instruction limit exceeded"),
        ("\x1bLua\x53\x00", "does not compile: attempt to load a binary chunk"),
    ],
)
def test_bad_modules_raise_device_error(source: str, match: str) -> None:
    with pytest.raises(DeviceError, match=match):
        LuaProc(source, limits=Limits(instructions=100_000))


def test_no_module_is_a_device_error() -> None:
    from aonode.devices.base import ProcessContext
    from aonode.devices.lua import LuaDevice
    from aonode.model import Assignment

    proc = Message(tags=(Tag("Type", "Process"),))
    with pytest.raises(DeviceError, match="needs a module"):
        LuaDevice().init(ProcessContext(proc.id, proc, Assignment(proc.id, 0, proc.id, 0), None))  # type: ignore[arg-type]


def test_memory_bytes_and_close() -> None:
    p = LuaProc(RUNNER)
    before = p.device.memory_bytes()
    p.run("local base = ... base.big = string.rep('x', 1000000)")
    assert p.device.memory_bytes() > before + 900_000
    assert p.device.snapshot() is None and not p.device.can_snapshot
    p.device.close()
    assert p.device.memory_bytes() == 0
    with pytest.raises(DeviceError):
        p.run("")


HYPER_AOS_IDIOMS = r"""
-- patterns from HyperBEAM's test/hyper-aos.lua: modules registered in package.loaded, a replaced
-- string.gmatch and os.time, a global print override, commitments read through pairs
local function load_utils()
  local utils = {}
  function utils.keys(t) local ks = {} for k in pairs(t) do ks[#ks + 1] = k end return ks end
  return utils
end
_G.package.loaded[".utils"] = load_utils()
print("loaded utils")
local native_gmatch = string.gmatch
string.gmatch = function(s, p) return native_gmatch(s, p) end

function compute(base, req, opts)
  local utils = require(".utils")
  os.time = function() return tonumber(req['block-timestamp']) end
  ao.event(base.process)
  local logs = {}
  function print(a) logs[#logs + 1] = tostring(a) end
  local owner
  for _, k in ipairs(utils.keys(base.process.commitments)) do
    local c = base.process.commitments[k]
    if c.alg == "rsa-pss-sha512" then owner = c.committer end
  end
  local parts = {}
  for part in ("a,b,c"):gmatch("[^,]+") do parts[#parts + 1] = part end
  print(owner == req.body.commitments[req.body.id].committer)
  print(#parts .. " " .. os.time())
  collectgarbage()
  base.results = {info = "hyper-aos", outbox = {},
                  output = {data = table.concat(logs, "\n"), prompt = "aos> "}}
  base.results.outbox[tostring(1)] = {target = owner, data = "reply", ["x-reference"] = "1"}
  return base
end
"""


def test_hyper_aos_idioms_run_unchanged() -> None:
    p = LuaProc(HYPER_AOS_IDIOMS, signer=RSA)
    m = sign_message(Message(target=p.id, tags=(Tag("Action", "Eval"),), data=b"1 + 1"), RSA)
    r = p.send(m)
    assert not r.error
    assert r.output.data == f"true\n3 {(T0 + 1000) // 1000}"
    assert r.output.prompt == "aos> "
    assert [(x.target, x.data, x.tags) for x in r.messages] == [
        (RSA.address, b"reply", (Tag("x-reference", "1"),))
    ]


def test_dropping_the_device_frees_the_vm_at_once() -> None:
    import weakref

    p = LuaProc(RUNNER)
    p.run("return 1")
    device = weakref.ref(p.device)
    vm = weakref.ref(p.device._vm)  # type: ignore[arg-type]
    del p
    assert device() is None and vm() is None  # no reference cycle through the VM's wall-clock callback
