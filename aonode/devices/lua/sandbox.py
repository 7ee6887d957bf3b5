"""One sandboxed Lua 5.3 VM (lupa's `lua53`) with the host code of lua@5.3a loaded into it.

`LuaVM` creates the runtime, loads the host chunks (`patterns.lua`, `sandbox.lua`, `stdlib.lua`,
`codec.lua`; see their headers) stripped of debug information, and keeps the few Lua functions
Python calls: `run_init`, `run_slot`, `export`, `patch`. Process code never sees the raw globals:
it runs in the environment `sandbox.lua` builds from `SANDBOX_COPY` (stock functions copied as
they are) and the host's own versions named in `SANDBOX_HOST` (written in sandbox.lua, stdlib.lua
and codec.lua). Everything else is absent, `REMOVED` among it.

Facts about lupa this relies on:
- every VM has `python` and `package.loaded.python`, even with `register_eval=False`: they are
  removed from the raw globals too, and process code never sees the raw globals anyway;
- with `encoding=None` strings cross as bytes both ways; a Python `str` passed in would be
  wrapped as a Python object, so every string handed to Lua here is bytes (`attribute_handlers`
  refuse attribute access on any Python object that reached Lua regardless);
- lupa reads the global `debug.traceback` as the message handler of every call; with `debug`
  removed from the raw globals, host errors come back without a traceback;
- `max_memory` is enforced by lupa's allocator: a Lua allocation over the cap fails with "not
  enough memory" inside Lua (a LuaMemoryError if it reaches Python), and the VM stays usable;
- but lupa pushes a call's arguments (and looks up `debug.traceback`) *before* its `lua_pcall`,
  outside any protected call: an allocation failing there is Lua's "unprotected error", a PANIC that
  aborts the whole node. So the cap is not the process's memory limit while the host calls in: every
  call goes through `LuaVM.call`, which lifts the cap by what the arguments need (their bytes, some
  stack, `HEADROOM`), and the first thing the Lua side does (`tighten`, a Python callback) is to set
  the cap back to the process's limit. Between calls the cap is the limit plus `HEADROOM`, so lupa's
  own small allocations (the name "debug", registry references) always fit. Whatever the arguments
  took above the limit makes the slot's own allocations fail (after an emergency collection), so a
  message too large for what is left gives a "memory limit exceeded" result, never an abort;
- a slot that fails keeps what it allocated (the VM is not rolled back), so code can leave the state
  so full that no later message could even be turned into a table: the process would be stuck for
  good, its Owner's Eval included. So a call that begins with less than `GRACE` bytes free under the
  limit first runs a full collection and, if that does not free enough, runs with the cap at limit +
  `GRACE` (never more): enough for a message and an Eval that frees memory. Only code that fills the
  grace too, on purpose, can leave a process stuck.

The Lua side also depends on the C library's locale for string comparison (strcoll), number
formatting and character classes, which must be the C locale's on every node. `_ensure_c_locale`
switches LC_COLLATE, LC_NUMERIC and LC_TIME to "C" when a VM is made (they are "C" unless some
library called setlocale), and LC_CTYPE too if a probe finds bytes classified otherwise.

Also: lupa's `get_memory_used()` counts from after the runtime's own set-up, so it is a little below
Lua's `collectgarbage("count")`; the per-VM cost of the sandbox itself is ~0.3 MB and ~0.6 ms.
"""

from __future__ import annotations

import importlib.resources
import locale
import threading
import weakref
from collections.abc import Callable
from typing import Any

import lupa.lua53 as lua53

from aonode.devices.base import DeviceError

LuaError = lua53.LuaError
LuaMemoryError = lua53.LuaMemoryError

SANDBOX_COPY: tuple[str, ...] = (
    "assert", "error", "getmetatable", "ipairs", "rawequal", "rawget", "rawlen", "rawset", "select",
    "type",
    "string.len", "string.packsize",
    "math.abs", "math.acos", "math.asin", "math.atan", "math.ceil", "math.cos", "math.deg", "math.exp",
    "math.floor", "math.fmod", "math.huge", "math.log", "math.max", "math.maxinteger", "math.min",
    "math.mininteger", "math.modf", "math.pi", "math.rad", "math.sin", "math.sqrt", "math.tan",
    "math.tointeger", "math.type", "math.ult",
    "os.difftime",
    "coroutine.isyieldable", "coroutine.running", "coroutine.status", "coroutine.yield",
    "utf8.charpattern", "utf8.codes",
)  # fmt: skip
"""Stock functions given to process code unchanged: pure, deterministic, and bounded by their input."""

SANDBOX_HOST: tuple[str, ...] = (
    "next", "pairs", "tonumber", "tostring", "print", "pcall", "xpcall", "setmetatable", "collectgarbage",
    "load", "require", "package.loaded", "package.preload", "_G", "_VERSION",
    "ao.event", "ao.resolve", "ao.set",
    "string.rep", "string.format", "string.find", "string.match", "string.gmatch", "string.gsub",
    "table.sort", "table.concat", "table.insert", "table.remove", "table.move", "table.pack", "table.unpack",
    "string.byte", "string.char", "string.lower", "string.upper", "string.reverse", "string.sub",
    "string.pack", "string.unpack", "utf8.char", "utf8.codepoint", "utf8.len", "utf8.offset",
    "math.random", "math.randomseed", "os.time", "os.date", "os.clock",
    "coroutine.create", "coroutine.resume", "coroutine.wrap",
)  # fmt: skip
"""Names process code gets in a version written by the host (sandbox.lua / codec.lua): deterministic,
metered or capped."""

REMOVED: tuple[str, ...] = (
    "io", "debug", "python", "dofile", "loadfile", "string.dump", "os.execute", "os.exit", "os.getenv",
    "os.remove", "os.rename", "os.tmpname", "os.setlocale", "package.loadlib", "package.searchers",
    "package.searchpath",
)  # fmt: skip
"""Absent from the sandbox (listed for the tests; the whitelist is what enforces it)."""

STEP = 1_000
"""Instructions between two calls of the count hook: the budget's granularity, and how often a slot can
be stopped (sandbox.lua). 10,000 let one hook interval of `..` on long strings run for a minute; 1,000
measured within noise of it on a tight loop (the hook restarts its count and reads the clock once a
second)."""

MAX_NESTING = 64
"""Deepest nesting of pcall/xpcall/coroutine.resume (C Lua stops running hooks near 200 C levels)."""

MAX_STRING_BYTES = 64 * 1024 * 1024
"""Largest string the library functions (rep, format, gsub, table.concat) build; half the memory limit
when that is smaller."""

C_PATTERN_LIMIT = float(1 << 24)
"""Estimated worst-case steps above which a pattern call runs in Lua (patterns.lua), not in C."""

PLAIN_FIND_LIMIT = 1 << 30
"""Subject length × needle length above which a plain string.find runs as a Lua loop, not C's memcmp loop."""

MAX_SOURCE_BYTES = 16 * 1024 * 1024
"""Largest chunk `load` accepts."""

HEADROOM = 1024 * 1024
"""Bytes above the highest cap that lupa may allocate outside a protected call (see above)."""

GRACE = 1024 * 1024
"""Bytes a slot may use above the memory limit when it begins with less than this free (see above)."""

ARG_OVERHEAD = 128
"""Bytes counted per argument of a call beyond its own length (string header, stack slot, growth)."""

_HOST_CHUNKS = ("patterns", "sandbox", "stdlib", "codec")
_sources: dict[str, bytes] = {}
_bytecode: dict[str, bytes] = {}
_locale_lock = threading.Lock()
_locale_checked = False


def _source(name: str) -> bytes:
    src = _sources.get(name)
    if src is None:
        src = importlib.resources.files(__package__).joinpath(f"{name}.lua").read_bytes()
        _sources[name] = src
    return src


def _deny_get(obj: object, name: object) -> object:
    raise AttributeError("Python objects are not accessible from Lua")


def _deny_set(obj: object, name: object, value: object) -> None:
    raise AttributeError("Python objects are not accessible from Lua")


_CTYPE_PROBE = b"""
local classes = {"a", "c", "d", "g", "l", "p", "s", "u", "w", "x"}
local want = {
  a = function(c) return (c >= 65 and c <= 90) or (c >= 97 and c <= 122) end,
  c = function(c) return c < 32 or c == 127 end,
  d = function(c) return c >= 48 and c <= 57 end,
  g = function(c) return c >= 33 and c <= 126 end,
  l = function(c) return c >= 97 and c <= 122 end,
  p = function(c) return (c >= 33 and c <= 47) or (c >= 58 and c <= 64) or (c >= 91 and c <= 96)
                         or (c >= 123 and c <= 126) end,
  s = function(c) return (c >= 9 and c <= 13) or c == 32 end,
  u = function(c) return c >= 65 and c <= 90 end,
  w = function(c) return (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) end,
  x = function(c) return (c >= 48 and c <= 57) or (c >= 65 and c <= 70) or (c >= 97 and c <= 102) end,
}
for c = 0, 255 do
  local ch = string.char(c)
  for _, cl in ipairs(classes) do
    if (string.find(ch, "%" .. cl) ~= nil) ~= want[cl](c) then return false end
  end
  local up = (c >= 97 and c <= 122) and c - 32 or c
  local low = (c >= 65 and c <= 90) and c + 32 or c
  if string.byte(string.upper(ch)) ~= up or string.byte(string.lower(ch)) ~= low then return false end
end
return ("Z" < "a") and ("a" < "\\255") and tostring(1.5) == "1.5"
  and os.date("!%c", 0) == "Thu Jan  1 00:00:00 1970"
"""


def _ensure_c_locale() -> None:
    """Make strcoll, number formatting, strftime and ctype behave as in the C locale. The categories are
    looked at for every VM (cheap: a library may have called setlocale since); ctype is probed once."""
    global _locale_checked
    with _locale_lock:
        for category in (locale.LC_COLLATE, locale.LC_NUMERIC, locale.LC_TIME):
            if locale.setlocale(category) not in ("C", "POSIX"):
                locale.setlocale(category, "C")
        if _locale_checked:
            return
        probe = lua53.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
        if probe.execute(_CTYPE_PROBE) is not True:
            locale.setlocale(locale.LC_CTYPE, "C")
            if probe.execute(_CTYPE_PROBE) is not True:
                raise DeviceError("lua@5.3a: the C library does not classify bytes as the C locale does")
        _locale_checked = True


def _tightener(ref: weakref.ReferenceType[LuaVM]) -> Callable[[bool], bool]:
    def tighten(collected: bool) -> bool:
        vm = ref()
        return True if vm is None else vm.tighten(collected)

    return tighten


class LuaVM:
    """A Lua runtime holding one process: the sandbox, the module and its state (`base`)."""

    def __init__(
        self,
        *,
        memory_bytes: int,
        seed: tuple[int, int],
        timed_out: Callable[[], bool],
        c_pattern_limit: float = C_PATTERN_LIMIT,
        plain_find_limit: int = PLAIN_FIND_LIMIT,
    ) -> None:
        _ensure_c_locale()
        self._limit = memory_bytes
        self._cap = memory_bytes
        # 0: no limit (host tests only); the cap then stays off
        self._rest = memory_bytes + GRACE + HEADROOM if memory_bytes > 0 else 0
        rt = lua53.LuaRuntime(
            encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            max_memory=self._rest,
            overflow_handler=float,  # integers beyond 64 bits (e.g. a u64 timestamp) arrive as floats
            attribute_handlers=(_deny_get, _deny_set),
        )
        self._rt = rt
        chunks = {name: self._host_chunk(name) for name in _HOST_CHUNKS}
        patterns = chunks["patterns"]()
        names = [n.encode() for n in SANDBOX_COPY]
        sandbox = chunks["sandbox"](timed_out, STEP, MAX_NESTING, MAX_SOURCE_BYTES, *names)
        chunks["stdlib"](
            sandbox,
            patterns,
            min(MAX_STRING_BYTES, memory_bytes // 2 or MAX_STRING_BYTES),
            c_pattern_limit,
            plain_find_limit,
            seed[0],
            seed[1],
        )
        self.host = sandbox
        """sandbox.lua's API table (`env`, `begin`, ...), for tests that drive the sandbox directly."""
        # The callback holds the VM weakly: a strong reference from inside the Lua state would be a cycle
        # Python's collector cannot see, and the VM would never be freed.
        codec = chunks["codec"](sandbox, _tightener(weakref.ref(self)))
        self.env = sandbox[b"env"]
        self._run_init = codec[b"run_init"]
        self._run_slot = codec[b"run_slot"]
        self._export = codec[b"export"]
        self._patch = codec[b"patch"]
        self.clear_hook: Callable[[], Any] = sandbox[b"clear_hook"]
        g = rt.globals()
        # Not reachable from the sandbox; removed so that nothing can reach them by accident either.
        g[b"package"][b"loaded"][b"python"] = None
        g[b"python"] = None
        g[b"debug"] = None

    def _host_chunk(self, name: str) -> Any:
        """A host chunk as a function. Compiled once per OS process and stripped of debug information
        (host line numbers stay out of error messages), then loaded as bytecode by each VM: the same
        lupa build made it, and host code is the only binary chunk any VM ever loads."""
        chunkname = b"=" + name.encode()
        code = _bytecode.get(name)
        if code is None:
            dump = self._rt.eval(
                b"function(src, name) return string.dump(assert(load(src, name, 't')), true) end"
            )
            code = bytes(dump(_source(name), chunkname))
            _bytecode[name] = code
        return self._rt.eval(b"function(code, name) return assert(load(code, name, 'b')) end")(
            code, chunkname
        )

    def call(self, fn: Any, *args: Any) -> Any:
        """`fn(*args)` with the cap lifted while lupa pushes the arguments; `fn` (a codec entry point)
        tightens it to the limit before anything else runs."""
        if not self._rest:
            return fn(*args)
        need = ARG_OVERHEAD * len(args)
        for a in args:
            if isinstance(a, bytes):
                need += len(a)
        self._rt.set_max_memory(self._rest + need)
        try:
            return fn(*args)
        finally:
            self._rt.set_max_memory(self._rest)

    def tighten(self, collected: bool) -> bool:
        """Set the cap for the call that has begun: the limit, or limit + GRACE when less than GRACE is
        free even after a full collection. False asks the Lua side to collect and call again."""
        if not self._rest:
            return True
        used = int(self._rt.get_memory_used())
        if used <= self._limit - GRACE:
            self._rt.set_max_memory(self._limit)
            return True
        if not collected:
            return False
        self._rt.set_max_memory(self._limit + GRACE)
        return True

    def run_init(self, *args: Any) -> Any:
        return self.call(self._run_init, *args)

    def run_slot(self, *args: Any) -> Any:
        return self.call(self._run_slot, *args)

    def export(self, *args: Any) -> Any:
        return self.call(self._export, *args)

    def patch(self, table: Any) -> Any:
        return self.call(self._patch, table)

    def table_from(self, value: Any, size_hint: int) -> Any:
        """A Lua table of plain Python data; lupa builds it outside a protected call, so the cap is
        lifted by `size_hint` (an upper bound on what it allocates) meanwhile."""
        if not self._rest:
            return self._rt.table_from(value, recursive=True)
        self._rt.set_max_memory(self._rest + size_hint)
        try:
            return self._rt.table_from(value, recursive=True)
        finally:
            self._rt.set_max_memory(self._rest)

    def memory_used(self) -> int:
        return int(self._rt.get_memory_used())
