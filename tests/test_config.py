"""Configuration precedence (defaults < TOML < environment < flags) and refusal of bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.config import ConfigError, NodeConfig, load_config


def test_defaults() -> None:
    config = load_config(env={})
    assert config == NodeConfig()
    assert config.listen == "127.0.0.1:7400"
    assert config.node_wallet_path == Path("data/node-wallet.json")


def test_precedence(tmp_path: Path) -> None:
    file = tmp_path / "node.toml"
    file.write_text(
        'listen = "127.0.0.1:1111"\nlog_level = "debug"\naccept_unsigned = true\n[cron]\nmax = 3\n'
    )
    config = load_config(file=file, env={})
    assert (config.listen, config.log_level, config.accept_unsigned) == ("127.0.0.1:1111", "debug", True)
    assert config.extra == {"cron": {"max": 3}}
    env = {"AONODE_LISTEN": "127.0.0.1:2222", "AONODE_ACCEPT_UNSIGNED": "no", "AONODE_NODE": "ignored"}
    config = load_config(file=file, env=env)
    assert (config.listen, config.accept_unsigned) == ("127.0.0.1:2222", False)
    config = load_config(file=file, env=env, flags={"listen": "127.0.0.1:3333", "data": None})
    assert config.listen == "127.0.0.1:3333"
    assert config.data == Path("data")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"AONODE_LISTEN": "nohost"}, "listen"),
        ({"AONODE_MAX_CONCURRENT_RPCS": "many"}, "max_concurrent_rpcs"),
        ({"AONODE_MAX_MESSAGE_BYTES": "-5"}, "negative"),
        ({"AONODE_ACCEPT_UNSIGNED": "perhaps"}, "boolean"),
        ({"AONODE_LOG_FORMAT": "xml"}, "log_format"),
        ({"AONODE_WALLET_TYPE": "dsa"}, "wallet_type"),
    ],
)
def test_bad_environment_values_are_refused(source: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env=source)


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "node.toml"
    file.write_text('lisen = "127.0.0.1:1"\n')
    with pytest.raises(ConfigError, match="unknown setting 'lisen'"):
        load_config(file=file, env={})


def test_broken_toml_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "node.toml"
    file.write_text("listen = \n")
    with pytest.raises(ConfigError, match="config file"):
        load_config(file=file, env={})


def test_config_doc_is_current() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    check = subprocess.run([sys.executable, str(root / "scripts" / "gen_config_doc.py"), "--check"])
    assert check.returncode == 0, "docs/config.md is stale: run scripts/gen_config_doc.py"
