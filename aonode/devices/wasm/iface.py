"""json-iface@1.0 for wasm64@1.0: the message and env JSON a module's `handle` reads, and its answer.

Message JSON (DESIGN §5): `Id`, `Owner` (the signer's address, "" when unsigned), `From` (first of
`From-Process`, `Cron-From`, `Owner`), `Target`, `Anchor`, `Signature` (base64url, "" when unsigned), `Tags`
(`[{"name", "value"}]` in message order, names header-cased: the first letter of each `-`-separated part
upper-cased, the rest kept, so `content-type` → `Content-Type` and `TTL` stays `TTL`), `Data` (UTF-8 text,
else unpadded base64url), `Module` (the module message's ID), `Block-Height`, `Timestamp` (ms), `Epoch`,
`Nonce` (the slot), `Hash-Chain` (text), `Cron` (True when the message has a `Cron` tag of `true`).
IDs are 43-character base64url. Env JSON: `{"Process": {"Id", "Owner", "Tags"}, "Module": {"Id", "Owner",
"Tags"}}`. Encoded compactly (no spaces), non-ASCII kept as UTF-8.

The answer must be `{"ok": true, "response": R}`. `R.Output` is a string (the output's data) or a table
`{data, prompt, print}`; `R.Messages` and `R.Spawns` are lists of `{Target, Anchor, Tags, Data}`;
`R.Assignments` a list of `{Processes, Message}`; a non-empty `R.Error` is the slot's error. Values of the
wrong type are converted, not refused: a non-string `data`/`Data` becomes its compact JSON, tags given as
an object `{name: value}` become a list in key order. `ok: false`, invalid JSON or a missing `response` is
an error Result (the module ran; its memory changes stay, as for any other answer).

`parse_result` never raises: any answer is a Result. What Python's json would choke on, or what could not
be stored, is refused deterministically (the text of the error depends only on the answer): nesting deeper
than `MAX_DEPTH` (a deeper document makes json's C scanner hit Python's recursion limit, which depends on
the thread's stack), an integer of more than `MAX_INT_DIGITS` digits (Python's own limit is a
process-wide setting), text that is not UTF-8 or holds a lone surrogate (`"\ud800"` parses, but cannot be
encoded again).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aonode.ids import b64url_encode, encode_id
from aonode.model import Message, Output, Result, ResultAssignment, Tag, data_to_text


def _id(raw: bytes) -> str:
    return encode_id(raw) if len(raw) == 32 else b64url_encode(raw)


def header_case(name: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in name.split("-"))


def _tags(m: Message) -> list[dict[str, str]]:
    return [{"name": header_case(t.name), "value": t.value} for t in m.tags]


def _owner(m: Message) -> str:
    return m.owner_address or ""


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def message_json(
    message: Message,
    *,
    target: str | None = None,
    module_id: str,
    slot: int,
    timestamp: int,
    block_height: int,
    epoch: int,
    hash_chain: bytes,
) -> bytes:
    owner = _owner(message)
    cron = message.tag("Cron")
    return dumps(
        {
            "Id": _id(message.id),
            "Owner": owner,
            "From": message.tag("From-Process") or message.tag("Cron-From") or owner,
            "Target": message.target if target is None else target,
            "Anchor": message.anchor,
            "Signature": b64url_encode(message.signature.value) if message.signature else "",
            "Tags": _tags(message),
            "Data": data_to_text(message.data),
            "Module": module_id,
            "Block-Height": block_height,
            "Timestamp": timestamp,
            "Epoch": epoch,
            "Nonce": slot,
            "Hash-Chain": _id(hash_chain) if hash_chain else "",
            "Cron": cron is not None and cron.lower() == "true",
        }
    )


def env_json(process_id: bytes, process: Message, module: Message | None) -> bytes:
    mod = (
        {"Id": _id(module.id), "Owner": _owner(module), "Tags": _tags(module)}
        if module is not None
        else {"Id": "", "Owner": "", "Tags": []}
    )
    return dumps(
        {"Process": {"Id": _id(process_id), "Owner": _owner(process), "Tags": _tags(process)}, "Module": mod}
    )


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _message(entry: Any) -> Message:
    if not isinstance(entry, dict):
        return Message(data=_text(entry).encode())
    raw_tags = entry.get("Tags") or []
    tags: list[Tag] = []
    if isinstance(raw_tags, dict):
        tags = [Tag(str(k), _text(v)) for k, v in raw_tags.items()]
    elif isinstance(raw_tags, list):
        for t in raw_tags:
            if isinstance(t, dict) and "name" in t:
                tags.append(Tag(_text(t["name"]), _text(t.get("value"))))
    return Message(
        target=_text(entry.get("Target")),
        anchor=_text(entry.get("Anchor")),
        tags=tuple(tags),
        data=_text(entry.get("Data")).encode("utf-8"),
    )


def _list(v: Any) -> list[Any]:
    if isinstance(v, list):
        return v
    if isinstance(v, dict):  # a Lua table with keys "1".."n" may arrive as an object
        return [v[k] for k in sorted(v, key=lambda k: (len(k), k))]
    return []


MAX_DEPTH = 64
"""Deepest nesting of arrays and objects in a module's answer (an AOS answer nests about 6 deep)."""

MAX_INT_DIGITS = 1000
"""Most digits of an integer in a module's answer."""


class _Refused(ValueError):
    """The answer is refused; the text is the slot's error."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"the module's answer has an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


_TOO_DEEP = f"the module's answer is nested deeper than {MAX_DEPTH} levels"
_SURROGATE = "the module's answer has text that is not valid Unicode (a lone surrogate)"


def _check(doc: Any) -> None:
    """Raise _Refused if `doc` nests deeper than MAX_DEPTH or holds a string that is not encodable."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise _Refused(_SURROGATE) from None
        elif isinstance(value, (list, dict)):
            if depth > MAX_DEPTH:
                raise _Refused(_TOO_DEEP)
            if isinstance(value, dict):
                stack.extend((k, depth) for k in value)
                stack.extend((v, depth + 1) for v in value.values())
            else:
                stack.extend((v, depth + 1) for v in value)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _may_be_refused(raw: bytes) -> bool:
    """Whether `_check` could refuse the parsed `raw`: only with more than MAX_DEPTH brackets in all (a
    deeper nesting needs that many) or a `\ud800`-`\udfff` escape (the UTF-8 itself was decoded, so a lone
    surrogate can only come from an escape). A small AOS answer has neither, and skips the walk."""
    return raw.count(b"[") + raw.count(b"{") > MAX_DEPTH or _SURROGATE_ESCAPE.search(raw) is not None


def parse_result(raw: bytes) -> Result:
    """The Result of a module's answer (never raises: a malformed answer is an error Result)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Result(error=f"the module's answer is not UTF-8 (byte {exc.start})")
    try:
        doc = json.loads(text, parse_int=_parse_int)
        if _may_be_refused(raw):
            _check(doc)
    except _Refused as exc:
        return Result(error=str(exc))
    except RecursionError:
        return Result(error=_TOO_DEEP)
    except json.JSONDecodeError as exc:
        return Result(error=f"JSON error parsing result output: {exc}")
    try:
        return _convert(doc)
    except (ValueError, TypeError, RecursionError, UnicodeError) as exc:
        # Not expected after _check; still a deterministic answer, never a host fault.
        return Result(error=f"the module's answer cannot be converted ({type(exc).__name__})")


def _convert(doc: Any) -> Result:
    if not isinstance(doc, dict):
        return Result(error="the module's answer is not a JSON object")
    if doc.get("ok") is not True:
        return Result(error=_text(doc.get("error") or doc.get("response") or "the module answered ok=false"))
    r = doc.get("response")
    if not isinstance(r, dict):
        return Result(error="the module's answer has no response object")
    out = r.get("Output")
    if isinstance(out, dict):
        output = Output(_text(out.get("data")), _text(out.get("prompt")), out.get("print") is True)
    else:
        output = Output(_text(out))
    assignments: list[ResultAssignment] = []
    for a in _list(r.get("Assignments")):
        if isinstance(a, dict):
            assignments.append(
                ResultAssignment(tuple(_text(p) for p in _list(a.get("Processes"))), _text(a.get("Message")))
            )
    error = r.get("Error")
    return Result(
        output=output,
        messages=tuple(_message(m) for m in _list(r.get("Messages"))),
        spawns=tuple(_message(m) for m in _list(r.get("Spawns"))),
        assignments=tuple(assignments),
        error=_text(error) if error else "",
    )
