"""Nodes for the network tests: real `aonode serve` subprocesses (LocalNode) with short gossip and push
retry intervals, AOS processes that pass a ball along a route, and the CLI run in-process."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import NodeClient, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.testing import LocalNode

USER = Ed25519Signer.generate()

# A process that prints the route it got and passes the ball to the route's next process.
BALL = """
Handlers.add("ball", "Ball", function(msg)
  local route = msg.Data or ""
  print("BALL FROM " .. msg.From .. " REST " .. route)
  if route ~= "" then
    local first, rest = string.match(route, "^([^,]+),?(.*)$")
    Send({Target = first, Action = "Ball", Data = rest})
  end
end)
"""


def fast_config(tmp: Path, name: str, **settings: object) -> Path:
    """A config file: gossip every 0.5 s, push retries at most 1 s apart."""
    values = {"gossip_interval_seconds": 0.5, "push_retry_max_seconds": 1.0, **settings}
    path = tmp / f"{name}.toml"
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    return path


def local_node(tmp: Path, name: str, *args: str) -> LocalNode:
    return LocalNode(tmp / name, "--config", str(fast_config(tmp, name)), *args)


def wallet_of(node: LocalNode) -> Path:
    return node.data / "node-wallet.json"


def aonode(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def spawn_ball(client: NodeClient, authorities: Sequence[str]) -> str:
    """A BALL process on the node `client` talks to, trusting the given node addresses as relays."""
    process = build_process(
        USER,
        module=encode_id(runtime_module().id),
        scheduler=client.info().address,
        device="lua@5.3a",
        tags=[*(("Authority", a) for a in authorities), ("On-Boot", "Data")],
        data=BALL.encode(),
    )
    client.schedule(process)
    return encode_id(process.id)
