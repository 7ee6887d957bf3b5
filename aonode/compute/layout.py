"""The compute engine's tables in the store, their key and value layouts, and snapshot manifests.

Integers are 8-byte big-endian (`store.u64`), IDs and digests their 32 raw bytes.

| table           | key                 | value                                                         |
|-----------------|---------------------|---------------------------------------------------------------|
| objects (store) | blake3(bytes)       | encoded results (`encode_result`), snapshot pages, manifests  |
| `results`       | process ‖ u64(slot) | result digest (32) ‖ hashpath(slot) (32)                      |
| `results_head`  | process             | 0x01 ‖ u64(slot) ‖ hashpath (32) ‖ result digest (32)         |
| `snapshots`     | process ‖ u64(slot) | digest of the snapshot manifest object (state after the slot) |

Results are dense from slot 0 to the head: every result batch requires `results_head` to hold the value the
previous batch left, so a batch that failed makes the later ones of the same run fail too and never leaves
a hole. A snapshot is written in the batch holding its slot's result.

Snapshot manifest object: `AOSN` ‖ 0x01 ‖ u32 len(device) ‖ device name ‖ u64 total length ‖ u32 page size ‖
u32 page count ‖ page digests (32 each). Pages are objects of `SNAPSHOT_PAGE` bytes (the last may be
shorter), so consecutive snapshots of a large state share the pages that did not change.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from aonode.compute.errors import StoredResultCorrupt
from aonode.ids import encode_id
from store import ReadView, WriteBatch, digest, read_u64, u64

RESULTS = "results"
RESULTS_HEAD = "results_head"
SNAPSHOTS = "snapshots"

ROW_LEN = 64
HEAD_VERSION = 1
_HEAD = struct.Struct(">BQ32s32s")
HEAD_LEN = _HEAD.size

SNAPSHOT_PAGE = 64 * 1024
_MANIFEST_MAGIC = b"AOSN\x01"
_MANIFEST_TAIL = struct.Struct(">QII")


def slot_key(process: bytes, slot: int) -> bytes:
    """Key of `results` and `snapshots`: process ‖ u64(slot)."""
    return process + u64(slot)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One `results` row."""

    slot: int
    result_digest: bytes
    hashpath: bytes


@dataclass(frozen=True, slots=True)
class ResultsHead:
    """The last stored result of a process."""

    slot: int
    hashpath: bytes
    result_digest: bytes

    def encode(self) -> bytes:
        return _HEAD.pack(HEAD_VERSION, self.slot, self.hashpath, self.result_digest)

    @classmethod
    def decode(cls, raw: bytes) -> ResultsHead:
        if len(raw) != HEAD_LEN or raw[0] != HEAD_VERSION:
            raise StoredResultCorrupt(f"not a version-{HEAD_VERSION} results head record ({len(raw)} bytes)")
        _, slot, hashpath, result_digest = _HEAD.unpack(raw)
        return cls(slot, hashpath, result_digest)


def encode_row(result_digest: bytes, hashpath: bytes) -> bytes:
    return result_digest + hashpath


def _decode_row(process: bytes, slot: int, raw: bytes) -> StoredRow:
    if len(raw) != ROW_LEN:
        raise StoredResultCorrupt(f"process {encode_id(process)} slot {slot}: malformed results row")
    return StoredRow(slot, bytes(raw[:32]), bytes(raw[32:]))


def read_row(view: ReadView, process: bytes, slot: int) -> StoredRow | None:
    raw = view.get(RESULTS, slot_key(process, slot))
    return None if raw is None else _decode_row(process, slot, bytes(raw))


def read_rows(view: ReadView, process: bytes, start: int, stop: int) -> dict[int, StoredRow]:
    """The stored rows of slots `start <= slot < stop`, by slot."""
    out: dict[int, StoredRow] = {}
    for key, raw in view.range(RESULTS, slot_key(process, start), slot_key(process, stop)):
        slot = read_u64(bytes(key[-8:]))
        out[slot] = _decode_row(process, slot, bytes(raw))
    return out


def read_head(view: ReadView, process: bytes) -> tuple[ResultsHead | None, bytes | None]:
    """The results head of `process` and its raw value (for a batch's precondition), or (None, None)."""
    raw = view.get(RESULTS_HEAD, process)
    if raw is None:
        return None, None
    raw = bytes(raw)
    return ResultsHead.decode(raw), raw


# -- snapshots ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    slot: int
    manifest: bytes


def nearest_snapshot(view: ReadView, process: bytes, max_slot: int) -> SnapshotRef | None:
    """The snapshot with the greatest slot <= `max_slot`, or None."""
    for key, value in view.range(
        SNAPSHOTS, slot_key(process, 0), slot_key(process, max_slot + 1), reverse=True, limit=1
    ):
        return SnapshotRef(read_u64(bytes(key[-8:])), bytes(value))
    return None


def put_snapshot(
    batch: WriteBatch, view: ReadView, process: bytes, slot: int, device: str, data: bytes
) -> None:
    """Add the snapshot `data` of `device` after `slot` to `batch`: pages not yet stored, the manifest and
    the `snapshots` row."""
    pages: list[bytes] = []
    seen: set[bytes] = set()
    for off in range(0, len(data), SNAPSHOT_PAGE):
        page = data[off : off + SNAPSHOT_PAGE]
        d = digest(page)
        if d not in seen and not view.has_object(d):
            batch.put_object(page)
        seen.add(d)
        pages.append(d)
    name = device.encode()
    manifest = b"".join(
        [
            _MANIFEST_MAGIC,
            struct.pack(">I", len(name)),
            name,
            _MANIFEST_TAIL.pack(len(data), SNAPSHOT_PAGE, len(pages)),
            *pages,
        ]
    )
    batch.put(SNAPSHOTS, slot_key(process, slot), batch.put_object(manifest))


@dataclass(frozen=True, slots=True)
class SnapshotManifest:
    """A decoded snapshot manifest: which device's state, its length, and its pages' digests in order."""

    device: str
    size: int
    page_size: int
    pages: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A `snapshots` row with its manifest: the state of `process` after `slot`."""

    process: bytes
    slot: int
    digest: bytes
    """Digest of the manifest object."""
    manifest: SnapshotManifest


def read_manifest(view: ReadView, manifest_digest: bytes) -> SnapshotManifest:
    """The stored manifest `manifest_digest`; StoredResultCorrupt when it is missing or malformed."""
    raw = view.get_object(manifest_digest)
    if raw is None or not raw.startswith(_MANIFEST_MAGIC):
        raise StoredResultCorrupt(f"snapshot manifest {encode_id(manifest_digest)} is missing or malformed")
    try:
        pos = len(_MANIFEST_MAGIC)
        (name_len,) = struct.unpack_from(">I", raw, pos)
        pos += 4
        device = bytes(raw[pos : pos + name_len]).decode()
        pos += name_len
        total, page_size, count = _MANIFEST_TAIL.unpack_from(raw, pos)
        pos += _MANIFEST_TAIL.size
        if len(raw) != pos + 32 * count:
            raise ValueError("trailing or missing page digests")
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise StoredResultCorrupt(f"snapshot {encode_id(manifest_digest)}: {exc}") from None
    pages = tuple(bytes(raw[pos + 32 * i : pos + 32 * (i + 1)]) for i in range(count))
    return SnapshotManifest(device, total, page_size, pages)


def read_snapshot(view: ReadView, process: bytes, max_slot: int) -> StoredSnapshot | None:
    """The snapshot of `process` with the greatest slot <= `max_slot` and its manifest, or None."""
    ref = nearest_snapshot(view, process, max_slot)
    if ref is None:
        return None
    return StoredSnapshot(process, ref.slot, ref.manifest, read_manifest(view, ref.manifest))


def load_snapshot(view: ReadView, manifest_digest: bytes) -> tuple[str, bytes]:
    """(device name, state bytes) of a stored snapshot; StoredResultCorrupt when anything is missing."""
    device, pages = load_snapshot_pages(view, manifest_digest)
    return device, b"".join(pages)


def load_snapshot_pages(view: ReadView, manifest_digest: bytes) -> tuple[str, list[bytes]]:
    """(device name, the state's pages in order, each verified) of a stored snapshot, for
    `Device.restore_chunks` (joining 64 MiB of pages costs as much as restoring them);
    StoredResultCorrupt when anything is missing."""
    manifest = read_manifest(view, manifest_digest)
    pages = []
    size = 0
    for i, page_digest in enumerate(manifest.pages):
        page = view.get_object(page_digest)
        if page is None:
            raise StoredResultCorrupt(f"snapshot {encode_id(manifest_digest)}: page {i} is missing")
        pages.append(page)
        size += len(page)
    if size != manifest.size:
        raise StoredResultCorrupt(
            f"snapshot {encode_id(manifest_digest)}: {size} bytes, expected {manifest.size}"
        )
    return manifest.device, pages


# -- stalled processes ---------------------------------------------------------------------------------

STALLS = "compute_stalls"
"""process → a `Stall` record (JSON): the process is not computed until it is lifted."""


@dataclass(frozen=True, slots=True)
class Stall:
    """Why a process is not computed: slot `slot` hit the wall-clock backstop of `wall_seconds` at
    `since_ms` (the node's clock, ms)."""

    slot: int
    since_ms: int
    wall_seconds: float
    reason: str

    def encode(self) -> bytes:
        doc = {"v": 1, "slot": self.slot, "since_ms": self.since_ms, "wall_seconds": self.wall_seconds}
        return json.dumps({**doc, "reason": self.reason}, sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Stall:
        try:
            doc = json.loads(raw)
            return cls(int(doc["slot"]), int(doc["since_ms"]), float(doc["wall_seconds"]), str(doc["reason"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise StoredResultCorrupt(f"not a stall record ({len(raw)} bytes): {exc}") from None


def read_stall(view: ReadView, process: bytes) -> Stall | None:
    raw = view.get(STALLS, process)
    return None if raw is None else Stall.decode(raw)


def read_stalls(view: ReadView, limit: int) -> list[tuple[bytes, Stall]]:
    """The first `limit` stalled processes, in process-ID order."""
    return [(bytes(k), Stall.decode(v)) for k, v in view.range(STALLS, limit=limit)]
