"""Generate the Go and TypeScript clients (buf.gen.yaml) and clients/service_config.json, or check that
the committed files are current.

    python scripts/gen_clients.py           # regenerate clients/go/gen, clients/typescript/src/gen, ...
    python scripts/gen_clients.py --check   # exit 1 and list the files that differ

clients/service_config.json is the gRPC retry policy the Python client uses (aonode/rpc/retry.py, with
NodeClient's default attempts) as a service config any gRPC library loads.

`buf generate` runs local plugins only: protoc-gen-go and protoc-gen-go-grpc (Debian's, on PATH) and
ts-proto (clients/typescript/node_modules, from its lockfile: `npm ci --prefix clients/typescript`), so
the output depends only on the protos and those pinned versions. A missing plugin fails the check in CI
(CI=true) and skips it elsewhere, saying what to install.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from gen_protos import stale_files  # scripts/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
BUF = Path(sys.executable).parent / "buf"
# Each generated tree and the plugins that write it.
OUTPUTS = {
    Path("clients/go/gen"): ("protoc-gen-go", "protoc-gen-go-grpc"),
    Path("clients/typescript/src/gen"): ("clients/typescript/node_modules/.bin/protoc-gen-ts_proto",),
}
INSTALL_HINT = (
    "apt-get install protoc-gen-go protoc-gen-go-grpc; npm ci --prefix clients/typescript (.ci/run does both)"
)


SERVICE_CONFIG = Path("clients/service_config.json")


def service_config() -> str:
    from aonode.client import NodeClient
    from aonode.rpc.retry import retry_options

    attempts = next(f.default for f in dataclasses.fields(NodeClient) if f.name == "retry_attempts")
    assert isinstance(attempts, int)
    config = json.loads(dict(retry_options(attempts))["grpc.service_config"])
    return json.dumps(config, indent=2) + "\n"


def missing_plugins() -> list[str]:
    return [
        plugin
        for plugins in OUTPUTS.values()
        for plugin in plugins
        if not (shutil.which(plugin) if "/" not in plugin else (ROOT / plugin).is_file())
    ]


def generate(out_root: Path) -> None:
    """Run `buf generate` with every output under out_root (the repository itself to regenerate)."""
    if not BUF.is_file():
        raise SystemExit(f"{BUF} not found: install the dev extra")
    command = [str(BUF), "generate", "--template", str(ROOT / "buf.gen.yaml"), "--output", str(out_root)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"buf generate failed:\n{done.stdout}{done.stderr}")


def files_under(root: Path) -> dict[str, Path]:
    files = {str(p.relative_to(root)): p for out in OUTPUTS for p in (root / out).rglob("*") if p.is_file()}
    if (root / SERVICE_CONFIG).is_file():
        files[str(SERVICE_CONFIG)] = root / SERVICE_CONFIG
    return files


def check() -> int:
    """0 if clients/*/gen hold exactly what the protos generate; else 1, naming the stale files."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        (Path(tmp) / SERVICE_CONFIG).write_text(service_config())
        fresh, current = files_under(Path(tmp)), files_under(ROOT)
        stale = stale_files(fresh, current)
    if stale:
        print("generated clients are stale; run `make clients`, commit:", *stale, sep="\n  ", file=sys.stderr)
        return 1
    print(f"generated clients are current ({len(current)} files)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    missing = missing_plugins()
    if missing:
        message = f"client generators missing: {', '.join(missing)} ({INSTALL_HINT})"
        if os.environ.get("CI") == "true" or not args.check:
            print(message, file=sys.stderr)
            return 1
        print(f"skipped: {message}")
        return 0
    if args.check:
        return check()
    for out in OUTPUTS:
        shutil.rmtree(ROOT / out, ignore_errors=True)
    generate(ROOT)
    (ROOT / SERVICE_CONFIG).write_text(service_config())
    print(f"wrote {len(files_under(ROOT))} files under", *(str(out) for out in OUTPUTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
