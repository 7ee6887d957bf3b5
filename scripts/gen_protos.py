"""Generate aonode/v1 from protos/aonode/v1/*.proto, or check that the committed code is current.

    python scripts/gen_protos.py           # regenerate aonode/v1/*_pb2*.py(i)
    python scripts/gen_protos.py --check   # exit 1 and list the files that differ

Generated: messages (`_pb2.py` + `.pyi`) and services (`_pb2_grpc.py` + mypy-protobuf's `.pyi`).
The output depends only on the proto files and the pinned grpcio-tools / mypy-protobuf versions.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PACKAGE_DIR = Path("aonode") / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def generate(out_root: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Run protoc on proto_root into out_root (which receives aonode/v1/...); return the generated files."""
    import grpc_tools
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(proto_root)) for p in (proto_root / PACKAGE_DIR).glob("*.proto"))
    (out_root / PACKAGE_DIR).mkdir(parents=True, exist_ok=True)
    plugin = shutil.which("protoc-gen-mypy_grpc", path=str(Path(sys.executable).parent))
    if plugin is None:
        raise SystemExit("protoc-gen-mypy_grpc not found next to this Python: install the dev extra")
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{proto_root}",
        f"-I{well_known}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--plugin=protoc-gen-mypy_grpc={plugin}",
        f"--mypy_grpc_out={out_root}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(p for p in (out_root / PACKAGE_DIR).iterdir() if p.name.endswith(GENERATED_SUFFIXES))


def committed_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / PACKAGE_DIR).iterdir() if p.name.endswith(GENERATED_SUFFIXES))


def stale_files(fresh: dict[str, Path], current: dict[str, Path]) -> list[str]:
    """The names (keys) that are in only one of the two trees or whose files differ byte for byte."""
    return sorted(
        name
        for name in fresh.keys() | current.keys()
        if name not in fresh or name not in current or not filecmp.cmp(fresh[name], current[name], False)
    )


def check(root: Path = ROOT) -> int:
    """0 if root/aonode/v1 holds exactly what root/protos generates; else 1, naming the stale files."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in generate(Path(tmp), root / "protos")}
        current = {p.name: p for p in committed_files(root)}
        stale = stale_files(fresh, current)
    if stale:
        print("generated code is stale; run `make proto` and commit:", *stale, sep="\n  ", file=sys.stderr)
        return 1
    print(f"generated code is current ({len(current)} files)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    if parser.parse_args().check:
        return check()
    for old in committed_files():
        old.unlink()
    for path in generate(ROOT):
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
