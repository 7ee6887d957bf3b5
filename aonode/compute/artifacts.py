"""`StoreArtifacts`: the devices' `ArtifactStore` port on the node's store.

What a device derives from a module and keeps (the wasm device: the translation of a module that uses
legacy exception handling) is stored as a content-addressed object (verified on every read, deduplicated
like any other object), named by a row of the `artifacts` table: key `kind ‖ 0x00 ‖ module digest`,
value the object's digest. It lives in the node's LMDB with everything else: durable, copied by a
backup of the data directory, and shared by every process on the same module.

A cache only: a read that fails (a corrupt object, a closed store) answers None, and a write that fails
(the store full or closing) is dropped, so the device derives the artifact again instead of failing a
computation over it.
"""

from __future__ import annotations

import logging

from store import ObjectStore, StoreError, WriteBatch

log = logging.getLogger("aonode.compute")

ARTIFACTS = "artifacts"
"""The table: `kind ‖ 0x00 ‖ key` → digest of the artifact's object."""

MAX_KEY = 256


class StoreArtifacts:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    @staticmethod
    def _key(kind: str, key: bytes) -> bytes:
        return kind.encode() + b"\0" + bytes(key)

    def get_artifact(self, kind: str, key: bytes) -> bytes | None:
        row = self._key(kind, key)
        if len(row) > MAX_KEY:
            return None
        try:
            with self._store.read() as view:
                digest = view.get(ARTIFACTS, row)
                data = None if digest is None else view.get_object(bytes(digest))
                return None if data is None else bytes(data)
        except StoreError as exc:
            log.warning("reading the %s artifact %s failed: %s", kind, bytes(key).hex()[:16], exc)
            return None

    def put_artifact(self, kind: str, key: bytes, data: bytes) -> None:
        row = self._key(kind, key)
        if len(row) > MAX_KEY:
            return
        batch = WriteBatch()
        batch.put(ARTIFACTS, row, batch.put_object(data))
        try:
            self._store.write(batch)
        except StoreError as exc:
            log.warning("storing the %s artifact %s failed: %s", kind, bytes(key).hex()[:16], exc)
