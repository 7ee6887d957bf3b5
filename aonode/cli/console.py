"""`aonode console PROCESS`: an interactive console like aos's.

Each entry is an `Eval` message signed by the wallet and scheduled; the console then computes its slot and
prints the output (as the process wrote it: the AOS runtime colours it with ANSI codes, which a terminal
renders), and the error, if any, in red on stderr. The prompt is the process's own (`Output.prompt` of the
last result), else `aos> `.

Input: a line is sent when it is a complete Lua chunk. There is no Lua on the client, so completeness is a
heuristic (`incomplete`): strings and comments removed, the chunk is incomplete while a long string or
comment is open, brackets are unbalanced, or block openers (`function`, `do`, `if`, `repeat`) outnumber
closers (`end`, `until`); continuation lines get the `>> ` prompt. Where the heuristic guesses wrong,
`.editor` reads lines until `.done` and sends them as one entry. `.load FILE` sends a file as one Eval;
`.exit` (or Ctrl-D) leaves with status 0; Ctrl-C drops the entry being typed. History is kept with
readline in ~/.aonode/history.

Live output: a background thread follows the schedule (SubscribeSchedule from the slot after the current
one) and computes every slot the console did not schedule itself, printing its output (prints of
messages from others, e.g. a handler's `print`) and one line per message the process sends (its outbox:
`→ TARGET Action: data`). Slots are computed in order, one at a time, so this costs the node what an
`aonode now` after each message would.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import click

from aonode.cli.common import IdCommand, expand, node_option, report_errors, wallet_option
from aonode.client import ClientError, NodeClient, build_message
from aonode.crypto import Signer
from aonode.ids import encode_id
from aonode.model import Message, Result
from aonode.rpc.convert import assignment_from_pb
from aonode.wallet import load_wallet

DEFAULT_PROMPT = "aos> "
CONTINUE_PROMPT = ">> "
HISTORY = Path("~/.aonode/history")

_LONG_OPEN = re.compile(r"\[(=*)\[")
_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPENERS = frozenset({"function", "do", "if", "repeat"})
_CLOSERS = frozenset({"end", "until"})


def _strip(code: str) -> str | None:
    """`code` with comments, long brackets and quoted strings removed; None while one is still open."""
    out: list[str] = []
    i = 0
    while i < len(code):
        if code.startswith("--", i):
            opened = _LONG_OPEN.match(code, i + 2)
            if opened:
                close = code.find("]" + opened.group(1) + "]", opened.end())
                if close < 0:
                    return None
                i = close + len(opened.group(1)) + 2
            else:
                newline = code.find("\n", i)
                i = len(code) if newline < 0 else newline
            continue
        opened = _LONG_OPEN.match(code, i)
        if opened:
            close = code.find("]" + opened.group(1) + "]", opened.end())
            if close < 0:
                return None
            out.append(" ")
            i = close + len(opened.group(1)) + 2
            continue
        if code[i] in "\"'":
            quoted = _STRING.match(code, i)
            if quoted is None:
                return None
            out.append(" ")
            i = quoted.end()
            continue
        out.append(code[i])
        i += 1
    return "".join(out)


def incomplete(code: str) -> bool:
    """Whether `code` looks like the start of a longer Lua chunk (module docstring: a heuristic)."""
    bare = _strip(code)
    if bare is None:
        return True
    depth = 0
    for word in _WORD.findall(bare):
        if word in _OPENERS:
            depth += 1
        elif word in _CLOSERS:
            depth -= 1
    brackets = sum(bare.count(c) for c in "({[") - sum(bare.count(c) for c in ")}]")
    return depth > 0 or brackets > 0


class Console:
    def __init__(self, client: NodeClient, follower: NodeClient, signer: Signer, process: str) -> None:
        self.client = client
        self.follower = follower
        self.signer = signer
        self.process = process
        self.prompt = DEFAULT_PROMPT
        self._own: set[str] = set()
        self._lock = threading.Lock()
        self._typing = ""

    # -- output -------------------------------------------------------------------------------------

    def show(self, result: Result) -> None:
        if result.output.data:
            text = result.output.data
            click.echo(text if text.endswith("\n") else text + "\n", nl=False)
        for message in result.messages:
            click.echo(_outbox_line(message))
        if result.error:
            click.secho(f"error: {result.error}", fg="red", err=True)
            if "<eof>" in result.error:
                # Lua's own word for a chunk that ended too early: the heuristic sent it incomplete.
                click.echo("(the entry ended inside a block: type it in .editor mode, ending with .done)")
        if result.output.prompt:
            self.prompt = result.output.prompt

    def _live(self, result: Result) -> None:
        """Print a result that arrived while the user may be typing: above the prompt, then the prompt and
        what was typed so far again."""
        if not (result.output.data or result.messages or result.error):
            return
        with self._lock:
            click.echo("\r\x1b[K", nl=False)
            self.show(result)
            click.echo(self._typing_prompt() + _line_buffer(), nl=False)
            sys.stdout.flush()

    def _typing_prompt(self) -> str:
        return CONTINUE_PROMPT if self._typing else self.prompt

    # -- the follower thread --------------------------------------------------------------------------

    def follow(self, from_slot: int) -> None:
        try:
            for frame in self.follower.subscribe(self.process, from_slot):
                for pb_assignment in frame.assignments:
                    assignment = assignment_from_pb(pb_assignment)
                    with self._lock:
                        mine = encode_id(assignment.message) in self._own
                    if mine:
                        continue
                    self._live(self.follower.compute(self.process, assignment.slot).result)
        except ClientError as exc:
            if exc.code not in ("CANCELLED", "UNAVAILABLE"):
                click.secho(f"\nlive output stopped: {exc}", fg="red", err=True)
        except ValueError:  # the channel was closed under the stream at exit
            return

    # -- input ----------------------------------------------------------------------------------------

    def eval(self, code: str) -> None:
        message = build_message(self.signer, self.process, action="Eval", data=code.encode())
        with self._lock:
            self._own.add(encode_id(message.id))
        assignment = self.client.schedule(message)
        result = self.client.compute(self.process, assignment.slot).result
        with self._lock:
            self.show(result)

    def read_entry(self) -> str | None:
        """One entry: a command or a complete chunk. None at end of input."""
        lines: list[str] = []
        while True:
            self._typing = "\n".join(lines)
            try:
                line = input(CONTINUE_PROMPT if lines else self.prompt)
            except EOFError:
                click.echo()
                return None
            except KeyboardInterrupt:
                click.echo("\n(entry dropped; .exit to quit)")
                lines = []
                continue
            if not lines and line.strip().startswith("."):
                return line.strip()
            lines.append(line)
            code = "\n".join(lines)
            if not incomplete(code):
                self._typing = ""
                return code

    def read_editor(self) -> str:
        click.echo("(editor mode: type Lua, end with .done on its own line)")
        lines: list[str] = []
        while True:
            try:
                line = input("")
            except EOFError:
                break
            if line.strip() == ".done":
                break
            lines.append(line)
        return "\n".join(lines)

    def run(self) -> None:
        while True:
            entry = self.read_entry()
            if entry is None or entry == ".exit":
                return
            try:
                if entry == ".editor":
                    code = self.read_editor()
                elif entry.startswith(".load"):
                    name = entry[len(".load") :].strip()
                    if not name:
                        click.echo("usage: .load FILE", err=True)
                        continue
                    code = expand(Path(name)).read_text(encoding="utf-8")
                elif entry in (".help", ".?"):
                    click.echo(
                        ".load FILE  send a Lua file as one Eval\n.editor     multi-line input until .done\n"
                        ".exit       leave (Ctrl-D too)"
                    )
                    continue
                elif entry.startswith("."):
                    click.echo(f"unknown command {entry.split()[0]} (.help lists them)", err=True)
                    continue
                else:
                    code = entry
                if code.strip():
                    self.eval(code)
            except ClientError as exc:
                click.secho(f"error: {exc}", fg="red", err=True)
            except OSError as exc:
                click.secho(f"error: {exc}", fg="red", err=True)


def _outbox_line(message: Message) -> str:
    target = message.tag("Target") or "?"
    action = message.tag("Action")
    data = message.data.decode("utf-8", "replace")
    if len(data) > 200:
        data = data[:200] + "…"
    return f"→ {target}" + (f" {action}" if action else "") + (f": {data}" if data else "")


def _line_buffer() -> str:
    try:
        import readline
    except ImportError:
        return ""
    return readline.get_line_buffer()


def _setup_history() -> Any:
    """Readline with a history file; returns a function that saves it (or None without readline)."""
    try:
        import readline
    except ImportError:
        return None
    path = expand(HISTORY)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)

    def save() -> None:
        try:
            readline.write_history_file(path)
            os.chmod(path, 0o600)  # entries are code sent to a process: keep them the user's
        except OSError:
            pass

    return save


@click.command(cls=IdCommand)
@click.argument("process")
@node_option
@wallet_option
@report_errors
def console(process: str, node: str, wallet_path: Path) -> None:
    """An interactive console on PROCESS, like aos: each entry is an Eval (owner only) whose output
    prints; output of other messages and messages the process sends stream in live.

    Multi-line input continues while the Lua chunk is incomplete; .editor (until .done), .load FILE,
    .exit. History: ~/.aonode/history."""
    signer = load_wallet(expand(wallet_path))
    save_history = _setup_history()
    with NodeClient(node) as client, NodeClient(node) as follower:
        current = client.get_slot(process).current_slot
        shell = Console(client, follower, signer, process)
        # A process that fails to compute still takes input; its errors print per entry.
        with contextlib.suppress(ClientError):
            shell.prompt = client.compute(process, current).result.output.prompt or DEFAULT_PROMPT
        click.echo(f"aonode console on {process} at {node} (slot {current}); .help for commands")
        threading.Thread(target=shell.follow, args=(current + 1,), daemon=True, name="follow").start()
        try:
            shell.run()
        finally:
            if save_history is not None:
                save_history()
