"""The built-in AOS runtime: the AOS programming model (Handlers, Send, Eval, Inbox, json ...) written by us
in Lua for the lua@5.3a ABI, used when a process is spawned without a module. Behaviour: docs/runtime.md.

The Lua sources live in `runtime/` (package data) and are bundled into one chunk, because the sandbox
has no file `require`: a prelude defines a small module loader (a global `require` that knows the bundled
modules, then `package.loaded`/`package.preload`, then the host's `require`), each file becomes a loader
function, and the last line loads `.process`, which defines the globals and `compute`. The bundle depends
only on the files, their fixed order and `RUNTIME_VERSION`, with line endings normalised to LF, so every
node builds the same bytes and so the same module ID from the same version: `runtime_module()` is an
*unsigned* module message, whose ID is its content digest.

Besides the AOS model itself the bundle carries our own implementations of the libraries AOS ships
and blueprints require: `.bint` (fixed-width big integers), `.base64`, `.crypto` (digests, HMAC,
PBKDF2) and `.chance` (the Mersenne Twister behind math.random), all plain Lua, so the instruction
budget meters them like any process code.

`example_source(name)` returns a Lua program from `examples/` (e.g. `token`, the token blueprint used by
the benchmark), meant to be loaded into a process with an `Eval`.
"""

from __future__ import annotations

import functools
from importlib import resources

from aonode.model import Message, Tag

__all__ = [
    "MODULE_NAME",
    "RUNTIME_VERSION",
    "example_source",
    "runtime_module",
    "runtime_source",
]

RUNTIME_VERSION = "0.3.0"
"""Version of the runtime; part of the module (tag and source), so a new version is a new module ID."""

MODULE_NAME = "aonode-aos"

# (canonical name, other names `require` knows it by, file in runtime/), in bundle order.
_MODULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("json", (".json",), "json.lua"),
    (".bint", ("bint",), "bint.lua"),
    (".base64", ("base64",), "base64.lua"),
    (".crypto", (".crypto.init", "crypto"), "crypto.lua"),
    (".chance", ("chance",), "chance.lua"),
    (".stringify", ("stringify",), "stringify.lua"),
    (".utils", ("utils",), "utils.lua"),
    (".handlers-utils", ("handlers-utils",), "handlers_utils.lua"),
    (".handlers", ("handlers",), "handlers.lua"),
    (".ao", ("ao",), "ao.lua"),
    (".process", ("process",), "process.lua"),
)

_PRELUDE = """\
-- {name} {version}: the built-in AOS runtime of aonode for lua@5.3a (see docs/runtime.md).
-- Bundled from aonode/devices/aos/runtime/*.lua; every module below is a loader function.
local AOS_RUNTIME_VERSION = "{version}"
local _PRELOAD, _LOADED, _ALIAS = {{}}, {{}}, {{}}
local _host_require = require

local function _aos_require(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
  end
  name = _ALIAS[name] or name
  local m = _LOADED[name]
  if m ~= nil then
    return m
  end
  local pkg = package
  local pkg_ok = type(pkg) == "table"
  if pkg_ok and type(pkg.loaded) == "table" and pkg.loaded[name] ~= nil then
    return pkg.loaded[name]
  end
  local loader = _PRELOAD[name]
  if loader == nil and pkg_ok and type(pkg.preload) == "table" then
    loader = pkg.preload[name]
  end
  if loader ~= nil then
    m = loader(name)
    if m == nil then
      m = true
    end
    _LOADED[name] = m
    if pkg_ok and type(pkg.loaded) == "table" then
      pkg.loaded[name] = m
    end
    return m
  end
  if type(_host_require) == "function" then
    return _host_require(name)
  end
  error("module '" .. name .. "' not found", 2)
end
require = _aos_require
"""

_MODULE_TEMPLATE = """
-------------------------------------------------------------------------------
-- module {name} ({file})
-------------------------------------------------------------------------------
_PRELOAD["{name}"] = function(...)
{source}
end
"""

_EPILOGUE = """
_aos_require(".process")
"""


def _read_text(*parts: str) -> str:
    text = resources.files(__name__).joinpath(*parts).read_text(encoding="utf-8")
    return text.replace("\r\n", "\n")


@functools.cache
def runtime_source() -> bytes:
    """The whole runtime as one Lua chunk (UTF-8), the same bytes for the same RUNTIME_VERSION."""
    chunks = [_PRELUDE.format(name=MODULE_NAME, version=RUNTIME_VERSION)]
    for name, aliases, file in _MODULES:
        source = _read_text("runtime", file).rstrip("\n")
        chunks.append(_MODULE_TEMPLATE.format(name=name, file=file, source=source))
        chunks.extend(f'_ALIAS["{alias}"] = "{name}"\n' for alias in aliases)
    chunks.append(_EPILOGUE)
    return "".join(chunks).encode("utf-8")


@functools.cache
def runtime_module() -> Message:
    """The runtime as an unsigned module message (its ID is its content digest)."""
    return Message(
        tags=(
            Tag("Data-Protocol", "ao"),
            Tag("Type", "Module"),
            Tag("Content-Type", "text/x-lua"),
            Tag("Module-Format", "lua@5.3a"),
            Tag("Name", MODULE_NAME),
            Tag("Version", RUNTIME_VERSION),
        ),
        data=runtime_source(),
    )


def example_source(name: str) -> bytes:
    """The Lua source of a shipped example program (`examples/<name>.lua`), e.g. `token`."""
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"invalid example name {name!r}")
    try:
        return _read_text("examples", f"{name}.lua").encode("utf-8")
    except FileNotFoundError:
        raise ValueError(f"no example named {name!r}") from None
