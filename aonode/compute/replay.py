"""`python -m aonode.compute.replay DATA_DIR PROCESS`: recompute a stored schedule from slot 0 and print, per
slot, one JSON line `{"slot", "digest", "hashpath", "error"}` (IDs as 43-character base64url).

The schedule (and modules) are read from the node's store in DATA_DIR (the node's data directory, or the
LMDB directory itself); the results are computed into a memory store, so nothing in DATA_DIR changes. With
`--check` each slot is also compared with the result stored in DATA_DIR, where there is one (the exit status
is 1 on any difference). Two runs in separate OS processes (e.g. with different `PYTHONHASHSEED`) print the
same lines exactly when the computation is deterministic: this is the determinism check between nodes.

With `--snapshot-every N` the replay also stores snapshots (after every slot that is a multiple of N, as the
node does with `snapshot_every = N`) and then prints one line `{"snapshot", "manifest"}` per snapshot (the
manifest's digest, which names the device and every page by digest); `--check` compares it with the
snapshot stored in DATA_DIR at the same slot, where there is one.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from aonode.compute import layout
from aonode.compute.config import ComputeConfig
from aonode.compute.engine import ComputeEngine
from aonode.devices.base import DeviceRegistry
from aonode.devices.registry import default_registry
from aonode.errors import AonodeError
from aonode.ids import Address, ProcessId, decode_id, encode_id, shield_dashed_ids, unshield_arg
from aonode.scheduler import SchedulerConfig
from aonode.scheduler.reads import ScheduleReader
from store import LmdbStore, MemoryStore, read_u64


def store_dir(data: Path) -> Path:
    """The LMDB directory of a node data directory (`DATA/store`), or `data` itself."""
    return data / "store" if (data / "store" / "data.mdb").exists() else data


async def _compute(engine: ComputeEngine, pid: ProcessId, to: int) -> None:
    await engine.compute(pid, to)


def load_registry(spec: str) -> DeviceRegistry:
    """The registry made by `module:function` (e.g. `aonode.devices.registry:default_registry`)."""
    module, _, func = spec.partition(":")
    registry = getattr(importlib.import_module(module), func or "default_registry")()
    if not isinstance(registry, DeviceRegistry):
        raise TypeError(f"{spec} did not return a DeviceRegistry")
    return registry


def replay(
    data: Path,
    process: str,
    to: int | None = None,
    check: bool = False,
    registry: DeviceRegistry | None = None,
    snapshot_every: int = 0,
) -> int:
    source = LmdbStore(store_dir(data))
    results = MemoryStore()
    engine = ComputeEngine(
        results,
        ScheduleReader(source, Address(""), SchedulerConfig()),
        registry or default_registry(),
        ComputeConfig(max_workers=1, snapshot_every=snapshot_every),
    )
    differences = 0
    try:
        pid = ProcessId(decode_id(process, "process"))
        tip = ScheduleReader(source, Address(""), SchedulerConfig()).head(pid).slot
        last = tip if to is None else min(to, tip)
        asyncio.run(_compute(engine, pid, last))
        for slot in range(last + 1):
            r = engine.stored_result(pid, slot)
            assert r is not None
            line = {
                "slot": slot,
                "digest": encode_id(r.result_digest),
                "hashpath": encode_id(r.hashpath),
                "error": r.result.error,
            }
            if check:
                with source.read() as view:
                    row = layout.read_row(view, pid, slot)
                if row is not None:
                    same = (row.result_digest, row.hashpath) == (r.result_digest, r.hashpath)
                    line["stored"] = "same" if same else "different"
                    differences += not same
            sys.stdout.write(json.dumps(line) + "\n")
        with results.read() as mine, source.read() as theirs:
            for key, manifest in mine.range(
                layout.SNAPSHOTS, layout.slot_key(pid, 0), layout.slot_key(pid, last + 1)
            ):
                snap: dict[str, object] = {
                    "snapshot": read_u64(bytes(key[-8:])),
                    "manifest": encode_id(manifest),
                }
                stored = theirs.get(layout.SNAPSHOTS, bytes(key)) if check else None
                if stored is not None:
                    same = bytes(stored) == bytes(manifest)
                    snap["stored"] = "same" if same else "different"
                    differences += not same
                sys.stdout.write(json.dumps(snap) + "\n")
    finally:
        engine.close()
        results.close()
        source.close()
    return 1 if differences else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aonode.compute.replay", description=__doc__.split("\n")[0]
    )
    parser.add_argument("data", type=Path, help="node data directory (or its LMDB directory)")
    parser.add_argument("process", help="process ID (43-character base64url)")
    parser.add_argument("--to", type=int, default=None, help="last slot (default: the tip)")
    parser.add_argument("--check", action="store_true", help="compare with the results stored in DATA")
    parser.add_argument(
        "--registry",
        default="aonode.devices.registry:default_registry",
        help="MODULE:FUNCTION returning the DeviceRegistry to compute with",
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        default=0,
        metavar="N",
        help="also store a snapshot after every slot that is a multiple of N and print its manifest digest",
    )
    args = parser.parse_args(shield_dashed_ids(list(sys.argv[1:] if argv is None else argv)))
    args.process = unshield_arg(args.process)  # an ID may begin with "-"
    if args.snapshot_every < 0:
        parser.error("--snapshot-every must be >= 0")
    try:
        return replay(
            args.data, args.process, args.to, args.check, load_registry(args.registry), args.snapshot_every
        )
    except AonodeError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
