"""Shared fixtures: a node served over real gRPC on 127.0.0.1:0 (LMDB in a temp dir), and channels to it.

The server runs on its own asyncio loop in a background thread, so tests stay synchronous and use the
ordinary blocking gRPC client, as users' code would.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, settings

from aonode.config import NodeConfig
from aonode.node import Node
from aonode.rpc.server import RunningServer, open_node, start_server

settings.register_profile(
    "ci", max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


class ServerThread:
    """A node serving on its own event loop in a daemon thread."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-node", daemon=True)
        self.running: RunningServer | None = None

    def start(self) -> ServerThread:
        self._thread.start()
        self.running = self.call(self._start())
        return self

    async def _start(self) -> RunningServer:
        return await start_server(open_node(self.config))

    def call(self, coro: object) -> RunningServer:
        future: Future[RunningServer] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=60)

    @property
    def node(self) -> Node:
        assert self.running is not None
        return self.running.node

    @property
    def address(self) -> str:
        assert self.running is not None
        return self.running.address

    def stop(self, grace: float = 0.5) -> None:
        if self.running is not None:
            asyncio.run_coroutine_threadsafe(self.running.stop(grace), self.loop).result(timeout=60)
            self.running = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


def make_config(data: Path, **overrides: object) -> NodeConfig:
    base = NodeConfig(data=data, listen="127.0.0.1:0", log_format="text", grace_seconds=0.5)
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def node_config(tmp_path: Path) -> NodeConfig:
    return make_config(tmp_path / "node")


@pytest.fixture
def server(node_config: NodeConfig) -> Iterator[ServerThread]:
    running = ServerThread(node_config).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def channel(server: ServerThread) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as chan:
        grpc.channel_ready_future(chan).result(timeout=10)
        yield chan


_ANSI = re.compile("\x1b\\[[0-9;]*m")


def plain(text: str) -> str:
    """`text` without ANSI colour codes: the built-in runtime colours print/Eval output as AOS does."""
    return _ANSI.sub("", text)


def wait_for(check: Callable[[], object], timeout: float = 15.0) -> None:
    """Block until `check()` is truthy (polling every 20 ms); fail after `timeout` s. For tests that wait
    on timers: a loaded machine makes them slower, not red."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the condition"
        time.sleep(0.02)
