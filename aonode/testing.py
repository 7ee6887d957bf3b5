"""A node in its own OS process, for benchmarks, crash tests and multi-node tests.

`LocalNode` runs `python -m aonode serve` on a data directory and a free loopback port, waits until the
health service reports SERVING, and can stop it gracefully (SIGTERM) or kill it (SIGKILL) and start it
again on the same data.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalNode:
    def __init__(self, data: Path, *args: str, port: int | None = None, log_level: str = "warning") -> None:
        self.data = Path(data)
        self.port = port or free_port()
        self.args = args
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LocalNode:
        command = [
            sys.executable, "-m", "aonode", "serve", "--data", str(self.data), "--listen", self.address,
            "--log-level", self.log_level, "--log-format", "json", *self.args,
        ]  # fmt: skip
        log = open(self.data.parent / f"{self.data.name}.log", "ab")  # noqa: SIM115 (handed to the child)
        self.proc = subprocess.Popen(command, stdout=log, stderr=log, env=dict(os.environ))
        log.close()
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"node exited with {self.proc.returncode} (see {self.data}.log)")
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"node on {self.address} not serving after {timeout} s")
                time.sleep(0.05)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; SIGKILL if it does not stop in time. Returns the exit status."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def cpu_seconds(self) -> float | None:
        """User + system CPU the node process has used so far (Linux /proc, clock-tick resolution), or
        None where that cannot be read. Benchmarks divide its growth by the calls made: a steadier
        measure than throughput on a shared machine."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> LocalNode:
        return self.start() if self.proc is None else self

    def __exit__(self, *_: object) -> None:
        self.stop()
