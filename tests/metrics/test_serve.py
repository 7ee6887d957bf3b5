"""`aonode serve --metrics HOST:PORT` (and the `metrics` config key) in a real node process."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import NodeClient
from aonode.testing import LocalNode, free_port
from tests.metrics.scrape import scrape, value


def test_serve_flag_serves_metrics(tmp_path: Path) -> None:
    port = free_port()
    with LocalNode(tmp_path / "n", "--metrics", f"127.0.0.1:{port}") as node:
        with NodeClient(node.address) as client:
            address = client.info().address
        samples = scrape(f"127.0.0.1:{port}")
        assert value(samples, "aonode_node_info", {"version": "0.1.0", "address": address}) == 1
        assert (
            value(
                samples, "aonode_rpc_requests_total", {"rpc": "aonode.v1.NodeService/GetInfo", "code": "OK"}
            )
            == 1
        )
        assert value(samples, "aonode_store_size_bytes") > 0


def test_config_key_serves_metrics(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "node.toml"
    config.write_text(f'metrics = "127.0.0.1:{port}"\n')
    with LocalNode(tmp_path / "n", "--config", str(config)):
        assert value(scrape(f"127.0.0.1:{port}"), "aonode_slots_scheduled_total") == 0


def test_bad_metrics_address_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--data", str(tmp_path), "--metrics", "nonsense"])
    assert result.exit_code == 2
    assert "metrics: expected HOST:PORT" in result.output


def test_metrics_port_in_use_fails_the_start(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [
            sys.executable, "-m", "aonode", "serve", "--data", str(tmp_path / "n"),
            "--listen", f"127.0.0.1:{free_port()}", "--metrics", f"127.0.0.1:{port}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert f"cannot serve /metrics on 127.0.0.1:{port}" in done.stderr


def test_the_http_gateway_serves_metrics_and_counts_its_routes(tmp_path: Path) -> None:
    # One port for both: `--http` mounts /metrics, and the gateway's requests are counted by route name.
    port = free_port()
    with LocalNode(tmp_path / "n", "--http", f"127.0.0.1:{port}"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/~meta@1.0/info", timeout=30) as answer:
            assert answer.status == 200
        samples = scrape(f"127.0.0.1:{port}")
        assert value(samples, "aonode_store_size_bytes") > 0
        routes = {
            dict(labels).get("route")
            for (name, labels), count in samples.items()
            if name == "aonode_http_requests_total" and count >= 1
        }
        assert "meta/info" in routes, routes
