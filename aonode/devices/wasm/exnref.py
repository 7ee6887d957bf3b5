"""Translate legacy exception handling (`try`/`catch`/`catch_all`/`rethrow`/`delegate`, which wasmtime does
not run) to the final form (`try_table`/`throw_ref`/`exnref`), as Binaryen's TranslateToExnref pass does.

Only functions that use a legacy opcode are rewritten (binary.py decodes every body to find them); every
other function body and every section but the type and code sections are copied byte for byte, and a
module with no legacy opcode comes back unchanged. In a rewritten function the bytes between structural
instructions are copied as they are; blocks, branches and the exception opcodes are re-emitted with their
label depths recomputed, because the translation adds labels.

`try bt body catch $t0 h0 ... catch_all hN end` (clauses C0..CN) becomes

    block $outer bt                        ;; the try's own label: a branch to the try lands here
      block (params -> CN's values)        ;; one block per clause, the last clause outermost
        ...
          block (params -> C0's values)
            try_table bt (catch $t0 0) ... (catch_all N)
              body
            end
            br $outer
          end  local.set $exn  h0  br $outer     ;; C0's values are on the stack, as `catch` gives them
        ...
      end  local.set $exn  hN
    end

where a clause's values are its tag's parameters, plus the caught `exnref` (`catch_ref`/`catch_all_ref`,
stored in `$exn` by `local.set`) only when some `rethrow` names this try: `rethrow N` becomes
`local.get $exn; throw_ref`. `$exn` is a new exnref local per nesting level of catch handlers (a rethrow
inside nested handlers names one of the enclosing ones, which never share a level).

`try bt body delegate N` becomes `try_table bt (catch_all_ref $d) body end`, which catches everything and
branches with its exnref to `$d`, a block placed where the exception must be rethrown: `delegate` rethrows
it "in" label N, so the first `try` whose body encloses label N (N itself included; a `try` whose
handler we are in, a block, loop or `if` is passed over) catches it. That try's body is wrapped as
`block $d (params -> exnref) body br 1 end throw_ref` inside its `try_table`, so the `throw_ref` is caught by
its clauses and by nothing in between. With no such try the exception leaves the function: the whole body
is wrapped as `block $d (result exnref) body return end throw_ref`. A try-delegate's own body counts as a try
body (its `try_table` forwards whatever a `throw_ref` there raises).

Block types with parameters and clause blocks with several values need function types: an existing one
with the same signature is used, else new ones are appended to the type section (existing indices keep
their meaning). Input the translator cannot handle correctly (a `delegate` that would have to pass
through a `try_table` of the final form) is refused with `TranslateError`, never translated wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aonode.devices.wasm import binary as B
from aonode.devices.wasm.binary import DecodeError, FuncType, Instr, Module, s33, u32, vec


class TranslateError(DecodeError):
    """The module uses legacy exception handling in a way the translator does not support."""


def uses_legacy_eh(wasm: bytes) -> bool:
    """Whether any function of `wasm` uses a legacy exception-handling opcode."""
    mod = B.parse_module(wasm)
    return any(_legacy(B.walk(mod.data, b.code_start, b.end)) for b in mod.bodies)


def translate(wasm: bytes) -> bytes:
    """`wasm` with its legacy exception handling in the final form (unchanged when it has none)."""
    mod = B.parse_module(wasm)
    types = _Types(mod)
    bodies: list[bytes | None] = []
    changed = False
    for k, body in enumerate(mod.bodies):
        instrs = B.walk(mod.data, body.code_start, body.end)
        if not _legacy(instrs):
            bodies.append(None)
            continue
        changed = True
        func = mod.func_types[mod.imported_funcs + k]
        nparams = len(mod.func_type(func, body.start).params)
        try:
            bodies.append(_Function(mod, types, body, instrs, nparams).emit())
        except (IndexError, KeyError) as exc:  # a structure the scans did not expect: refuse, never guess
            raise TranslateError(
                f"wasm: function {mod.imported_funcs + k}: cannot translate ({exc!r})"
            ) from None
    if not changed:
        return wasm
    out = [wasm[:8]]
    if types.added and mod.section(B.SEC_TYPE) is None:
        out.append(_section(B.SEC_TYPE, u32(len(types.added)) + b"".join(types.added)))
    for sec in mod.sections:
        if sec.id == B.SEC_TYPE and types.added:
            old = mod.data[sec.payload : sec.end]
            payload = u32(mod.type_entries + len(types.added)) + old[_leb_len(old) :] + b"".join(types.added)
            out.append(_section(B.SEC_TYPE, payload))
        elif sec.id == B.SEC_CODE:
            parts = [
                mod.data[b.start : b.end] if new is None else u32(len(new)) + new
                for b, new in zip(mod.bodies, bodies, strict=True)
            ]
            out.append(_section(B.SEC_CODE, u32(len(parts)) + b"".join(parts)))
        else:
            out.append(mod.data[sec.start : sec.end])
    return b"".join(out)


def _legacy(instrs: list[Instr]) -> bool:
    return any(i.op in B.LEGACY_OPS for i in instrs)


def _section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + u32(len(payload)) + payload


def _leb_len(data: bytes) -> int:
    r = B.Reader(data)
    r.uleb()
    return r.pos


class _Types:
    """Function types by signature: the module's own, then the ones the translation appends."""

    def __init__(self, mod: Module) -> None:
        self.mod = mod
        self.index: dict[FuncType, int] = {}
        for i, ty in enumerate(mod.types):
            if ty is not None:
                self.index.setdefault(ty, i)
        self.added: list[bytes] = []

    def blocktype(self, params: tuple[bytes, ...], results: tuple[bytes, ...]) -> bytes:
        if not params and not results:
            return b"\x40"
        if not params and len(results) == 1:
            return results[0]
        ty = FuncType(params, results)
        idx = self.index.get(ty)
        if idx is None:
            idx = len(self.mod.types) + len(self.added)
            self.index[ty] = idx
            self.added.append(b"\x60" + vec(list(params)) + vec(list(results)))
        return s33(idx)


@dataclass
class _Try:
    """What the scans learn about one legacy `try` (by its instruction's position)."""

    clauses: list[tuple[int, int | None]] = field(default_factory=list)
    """(CATCH or CATCH_ALL, tag) in order."""
    delegate: bool = False
    rethrown: bool = False
    target: bool = False
    """Some `delegate` rethrows into this try's body."""
    dest: int | None = None
    """For a try-delegate: the instruction index of the try its exceptions go to (-1: the caller)."""


@dataclass
class _Label:
    kind: int
    """The opcode that opened it (0 for the function)."""
    at: int
    """Instruction index of the opener (-1 for the function)."""
    pos: int = 0
    """Output label position (0 = the function) a branch to this label goes to."""
    handler: bool = False
    """A try whose catch handlers we are in."""
    dt: int = -1
    """Output position of the block a delegate branches to, for a delegate target."""
    exn: int = -1
    """The exnref local of a rethrown try."""
    near: int = -1
    """Scan 2: where a delegate naming this label sends its exception (a try's index, -1: the caller)."""
    outer: int = -1
    """Scan 2: `near` of the enclosing label (a try's, once its handlers begin)."""


_BLOCKED = -2
"""`near` beyond a try_table of the final form: refused."""


class _Function:
    def __init__(self, mod: Module, types: _Types, body: B.Body, instrs: list[Instr], nparams: int) -> None:
        self.mod = mod
        self.types = types
        self.body = body
        self.instrs = instrs
        self.first_exn = nparams + body.nlocals
        self.nexn = 0
        self.tries: dict[int, _Try] = {}
        self.level_of: dict[int, int] = {}
        self.opened: dict[int, _Label] = {}
        self.func_target = False
        self._structure()
        self._labels()

    def fail(self, what: str, ins: Instr) -> TranslateError:
        return TranslateError(f"wasm: {what} at offset {ins.start:#x}")

    # Scan 1: which try ends how, and with which clauses.
    def _structure(self) -> None:
        stack: list[tuple[int, int]] = []  # (opcode, index)
        for n, ins in enumerate(self.instrs):
            op = ins.op
            if op in (B.BLOCK, B.LOOP, B.IF, B.TRY_TABLE):
                stack.append((op, n))
            elif op == B.TRY:
                stack.append((op, n))
                self.tries[n] = _Try()
            elif op in (B.CATCH, B.CATCH_ALL):
                if not stack or stack[-1][0] != B.TRY:
                    raise self.fail("catch outside a try", ins)
                t = self.tries[stack[-1][1]]
                if t.clauses and t.clauses[-1][0] == B.CATCH_ALL:
                    raise self.fail("a clause after catch_all", ins)
                t.clauses.append((op, ins.imm if op == B.CATCH else None))
            elif op == B.DELEGATE:
                if not stack or stack[-1][0] != B.TRY or self.tries[stack[-1][1]].clauses:
                    raise self.fail("delegate outside a try body", ins)
                self.tries[stack.pop()[1]].delegate = True
            elif op == B.ELSE:
                if not stack or stack[-1][0] != B.IF:
                    raise self.fail("else outside an if", ins)
            elif op == B.END and stack:
                stack.pop()
        if stack:
            raise TranslateError("wasm: unbalanced blocks")

    # Scan 2: what rethrow and delegate name. Each label knows the nearest try (itself included) that a
    # delegate naming it hands its exception to, so resolving a delegate is O(1) however deep the nesting.
    def _labels(self) -> None:
        stack = [_Label(0, -1, near=-1)]
        for n, ins in enumerate(self.instrs):
            op = ins.op
            if op in (B.BLOCK, B.LOOP, B.IF):
                stack.append(_Label(op, n, near=stack[-1].near))
            elif op == B.TRY_TABLE:
                stack.append(_Label(op, n, near=_BLOCKED))
            elif op == B.TRY:
                t = self.tries[n]
                near = n if t.clauses or t.delegate else stack[-1].near
                stack.append(_Label(op, n, near=near, outer=stack[-1].near))
            elif op in (B.CATCH, B.CATCH_ALL):
                label = stack[-1]
                label.handler = True
                label.near = label.outer  # a throw in a handler is not caught by its own try
            elif op == B.END:
                stack.pop()
            elif op == B.RETHROW:
                target = self._label(stack, ins.imm, ins)
                if target.kind != B.TRY or not target.handler:
                    raise self.fail(f"rethrow {ins.imm} does not name a try whose handler encloses it", ins)
                self.tries[target.at].rethrown = True
            elif op == B.DELEGATE:
                own = stack.pop()
                near = self._label(stack, ins.imm, ins).near
                if near == _BLOCKED:
                    raise self.fail("delegate through a try_table is not supported", ins)
                if near == -1:
                    self.func_target = True
                else:
                    self.tries[near].target = True
                self.tries[own.at].dest = near
        self._levels()

    def _label(self, stack: list[_Label], depth: int, ins: Instr) -> _Label:
        if depth >= len(stack):
            raise self.fail(f"label {depth} out of range", ins)
        return stack[-1 - depth]

    def _levels(self) -> None:
        level = 0
        open_: list[
            list[int]
        ] = []  # per open construct: [try index or -1, 1 if its handlers raised the level]
        for n, ins in enumerate(self.instrs):
            op = ins.op
            if op == B.TRY:
                if self.tries[n].rethrown:
                    self.level_of[n] = level
                    self.nexn = max(self.nexn, level + 1)
                open_.append([n, 0])
            elif op in (B.BLOCK, B.LOOP, B.IF, B.TRY_TABLE):
                open_.append([-1, 0])
            elif op in (B.CATCH, B.CATCH_ALL):
                top = open_[-1]
                if not top[1] and self.tries[top[0]].rethrown:
                    level += 1  # rethrown tries nested in these handlers use the next local
                    top[1] = 1
            elif op in (B.END, B.DELEGATE) and open_:
                level -= open_.pop()[1]

    # Scan 3: emit.
    def emit(self) -> bytes:
        data = self.mod.data
        out: list[bytes] = []
        stack = [_Label(0, -1, pos=0)]
        self.depth = 1  # output labels open (the function's is 0)
        copied = self.body.code_start
        last = len(self.instrs) - 1
        if self.func_target:
            stack[0].dt = self._open(out, B.BLOCK, B.EXNREF)
        for n, ins in enumerate(self.instrs):
            out.append(data[copied : ins.start])
            copied = ins.end
            op = ins.op
            if op in (B.BLOCK, B.LOOP, B.IF):
                out.append(data[ins.start : ins.end])
                stack.append(_Label(op, n, pos=self.depth))
                self.depth += 1
            elif op == B.TRY_TABLE:
                bt0, bt1, _kind, catches = ins.imm
                clauses = []
                for kind, tag, label in catches:
                    clauses.append(
                        bytes([kind])
                        + (u32(tag) if tag is not None else b"")
                        + u32(self._br(stack, label, ins))
                    )
                out.append(b"\x1f" + data[bt0:bt1] + vec(clauses))
                stack.append(_Label(op, n, pos=self.depth))
                self.depth += 1
            elif op == B.ELSE:
                out.append(b"\x05")
            elif op in (B.BR, B.BR_IF, B.BR_ON_NULL, B.BR_ON_NON_NULL):
                out.append(bytes([op]) + u32(self._br(stack, ins.imm, ins)))
            elif op == B.BR_TABLE:
                labels = [u32(self._br(stack, d, ins)) for d in ins.imm]
                out.append(b"\x0e" + u32(len(labels) - 1) + b"".join(labels))
            elif op in (B.BR_ON_CAST, B.BR_ON_CAST_FAIL):
                flags, label, h0, h1 = ins.imm
                out.append(
                    b"\xfb" + u32(op & 0xFF) + bytes([flags]) + u32(self._br(stack, label, ins)) + data[h0:h1]
                )
            elif op == B.TRY:
                stack.append(self._try(out, n, ins))
            elif op in (B.CATCH, B.CATCH_ALL):
                self._catch(out, stack[-1])
            elif op == B.RETHROW:
                label = stack[-1 - ins.imm]
                out.append(b"\x20" + u32(label.exn) + b"\x0a")
            elif op == B.DELEGATE:
                label = stack.pop()
                self._close_dt(out, label)
                out.append(b"\x0b")  # the try_table
                self.depth -= 1
            elif op == B.END:
                if n == last:
                    if self.func_target:
                        out.append(b"\x0f\x0b\x0a")  # return; end $dt; throw_ref (to the caller)
                        self.depth -= 1
                    out.append(b"\x0b")
                    break
                label = stack.pop()
                if label.kind == B.TRY:
                    self._end_try(out, label)
                else:
                    out.append(b"\x0b")
                    self.depth -= 1
            else:
                raise self.fail(f"unexpected opcode {op:#x}", ins)
        locals_ = list(self.body.locals)
        if self.nexn:
            locals_.append((self.nexn, B.EXNREF))
        head = vec([u32(count) + vt for count, vt in locals_])
        return head + b"".join(out)

    def _br(self, stack: list[_Label], depth: int, ins: Instr) -> int:
        return self.depth - 1 - self._label(stack, depth, ins).pos

    def _open(self, out: list[bytes], op: int, bt: bytes) -> int:
        out.append(bytes([op]) + bt)
        self.depth += 1
        return self.depth - 1

    def _signature(self, ins: Instr) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
        kind = ins.imm[2]
        if kind is None:
            return (), ()
        if isinstance(kind, bytes):
            return (), (kind,)
        ty = self.mod.func_type(kind, ins.start)
        return ty.params, ty.results

    def _try(self, out: list[bytes], n: int, ins: Instr) -> _Label:
        t = self.tries[n]
        bt = self.mod.data[ins.imm[0] : ins.imm[1]]
        params, _results = self._signature(ins)
        label = _Label(B.TRY, n)
        if t.delegate:
            assert t.dest is not None
            dest = 1 if t.dest == -1 else self.opened[t.dest].dt  # 1: the function's $dt block
            out.append(b"\x1f" + bt + b"\x01\x03" + u32(self.depth - 1 - dest))
            label.pos = self.depth
            self.depth += 1
        elif not t.clauses:
            label.pos = self._open(out, B.BLOCK, bt)
            return label
        else:
            label.pos = self._open(out, B.BLOCK, bt)
            for kind, tag in reversed(t.clauses):
                values = self._tag_params(tag, ins) if kind == B.CATCH else ()
                if t.rethrown:
                    values = (*values, B.EXNREF)
                self._open(out, B.BLOCK, self.types.blocktype(params, values))
            clauses = []
            for i, (kind, tag) in enumerate(t.clauses):
                ck = (0 if kind == B.CATCH else 2) + (1 if t.rethrown else 0)
                clauses.append(bytes([ck]) + (u32(tag) if tag is not None else b"") + u32(i))
            self._open(out, B.TRY_TABLE, bt + vec(clauses))
            if t.rethrown:
                label.exn = self.first_exn + self.level_of[n]
        if t.target:
            label.dt = self._open(out, B.BLOCK, self.types.blocktype(params, (B.EXNREF,)))
        self.opened[n] = label
        return label

    def _tag_params(self, tag: int | None, ins: Instr) -> tuple[bytes, ...]:
        if tag is None or tag >= len(self.mod.tag_types):
            raise self.fail(f"catch of unknown tag {tag}", ins)
        return self.mod.func_type(self.mod.tag_types[tag], ins.start).params

    def _close_dt(self, out: list[bytes], label: _Label) -> None:
        if label.dt >= 0:
            out.append(b"\x0c\x01\x0b\x0a")  # br to the try_table; end $dt; throw_ref (caught by it)
            self.depth -= 1
            label.dt = -1

    def _catch(self, out: list[bytes], label: _Label) -> None:
        t = self.tries[label.at]
        if not label.handler:
            self._close_dt(out, label)
            out.append(b"\x0b")  # the try_table
            self.depth -= 1
            label.handler = True
        # Close the current clause's block: the values the clause caught are then on the stack.
        outer = self.depth - 1 - label.pos
        out.append(b"\x0c" + u32(outer) + b"\x0b")
        self.depth -= 1
        if t.rethrown:
            out.append(b"\x21" + u32(label.exn))

    def _end_try(self, out: list[bytes], label: _Label) -> None:
        t = self.tries[label.at]
        if not t.clauses:
            out.append(b"\x0b")
            self.depth -= 1
            return
        out.append(b"\x0b")  # $outer
        self.depth -= 1
