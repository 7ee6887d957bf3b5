"""The generated-code drift check: passes on the committed tree, fails once a proto changes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gen_protos  # noqa: E402


def _copy_tree(dest: Path) -> Path:
    shutil.copytree(ROOT / "protos", dest / "protos")
    shutil.copytree(
        ROOT / "aonode" / "v1", dest / "aonode" / "v1", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dest


def test_committed_code_is_current(tmp_path: Path) -> None:
    assert gen_protos.check(_copy_tree(tmp_path)) == 0


def test_changed_proto_without_regeneration_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_tree(tmp_path)
    proto = root / "protos" / "aonode" / "v1" / "node.proto"
    proto.write_text(
        proto.read_text().replace("message GetInfoRequest {}", "message GetInfoRequest { string x = 1; }")
    )
    assert gen_protos.check(root) == 1
    assert "node_pb2.py" in capsys.readouterr().err
