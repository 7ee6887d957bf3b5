"""Write docs/config.md from the NodeConfig field docstrings (`--check`: exit 1 if it is stale)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "aonode" / "config.py"
DOC = ROOT / "docs" / "config.md"

HEADER = """# Node configuration

`aonode serve` reads its settings from, in rising precedence: defaults, a TOML file (`--config FILE`),
`AONODE_*` environment variables, and flags. A TOML key is the setting's name (`listen = "..."`); an
environment variable is `AONODE_` + the name upper-cased (`AONODE_MAX_MESSAGE_BYTES=...`); booleans accept
1/0, true/false, yes/no, on/off. Unknown TOML keys and badly typed values are refused with a message naming
the key and where it came from. TOML tables (`[devices]`, ...) are passed to the subsystems that own them.

The client commands read `AONODE_NODE` (node address, default 127.0.0.1:7400) and `AONODE_WALLET`
(signing key, default ~/.aonode/wallet).

This file is generated from `aonode/config.py` by `scripts/gen_config_doc.py`.

| setting | default | meaning |
|---|---|---|
"""


def render() -> str:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "NodeConfig")
    rows = []
    for node, after in zip(cls.body, cls.body[1:], strict=False):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        if node.target.id == "extra" or not isinstance(after, ast.Expr):
            continue
        doc = " ".join(str(after.value.value).split())  # type: ignore[attr-defined]
        default = ast.unparse(node.value) if node.value is not None else ""
        rows.append(f"| `{node.target.id}` | `{default}` | {doc} |")
    return HEADER + "\n".join(rows) + "\n"


def main() -> int:
    text = render()
    if sys.argv[1:] == ["--check"]:
        if DOC.read_text(encoding="utf-8") != text:
            print("docs/config.md is stale: run scripts/gen_config_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
