"""`node_device_settings`: the wasm device's cache settings a node's TOML may give, checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.config import ConfigError
from aonode.devices.registry import WASM
from aonode.node import node_device_settings
from tests.conftest import make_config


def test_module_cache_bytes_is_passed_on_and_checked(tmp_path: Path) -> None:
    config = make_config(tmp_path, extra={"devices": {WASM: {"module_cache_bytes": 64 << 20}}})
    settings = node_device_settings(config)[WASM]
    assert settings["module_cache_bytes"] == 64 << 20
    assert settings["cache_dir"] == str(tmp_path / "wasm-cache")
    for bad in (0, -1, "big", True):
        config = make_config(tmp_path, extra={"devices": {WASM: {"module_cache_bytes": bad}}})
        with pytest.raises(ConfigError, match="module_cache_bytes"):
            node_device_settings(config)


def test_the_artifact_store_is_the_nodes_not_the_configurations(tmp_path: Path) -> None:
    config = make_config(tmp_path, extra={"devices": {WASM: {"artifacts": "/somewhere"}}})
    with pytest.raises(ConfigError, match="artifacts"):
        node_device_settings(config)
