"""Records of asynchronous pushes, so `GetPush` answers after a restart and an interrupted push resumes.

Table `push_runs`: key the push ID (32 bytes), value canonical JSON: `process`, `slot`, `result_depth`,
`max_hops`, `state`, `delivered`, `existing`, `error`, `started`, `finished` (ms since the epoch) and,
once finished, `tree` (the delivery tree; results as base64url of their canonical encoding). Table
`push_runs_done`: key `u64(finished) ‖ push ID`, empty value: the finished pushes in the order they
ended, so the oldest beyond `PushConfig.max_pushes_kept` are forgotten first.

Lifecycle: the record is written, durably, as `running` (without a tree) before `Push` answers with the
ID; it is rewritten with the final state and tree when the push ends. A record still `running` when the
node starts belongs to a push interrupted by a stop or a crash: the node resumes it under the same ID
(pushing the root again makes only the deliveries that are missing; docs/push.md). A record `incomplete`
(deliveries not made because a node was unreachable; synchronous pushes are recorded then too) is retried
at `next_retry` (backoff: `attempts` so far) until done or past `deadline`, also after a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aonode.codec import decode_result, encode_result
from aonode.ids import b64url_decode, b64url_encode, decode_id
from aonode.push.config import PushNode, PushReport, State
from store import WriteBatch, u64

RUNS = "push_runs"
DONE = "push_runs_done"


@dataclass(frozen=True)
class PushRecord:
    push_id: str
    process: bytes
    slot: int
    result_depth: int
    max_hops: int
    started: int
    state: State = "running"
    delivered: int = 0
    existing: int = 0
    error: str = ""
    finished: int = 0
    tree: PushNode | None = None
    undelivered: int = 0
    attempts: int = 0
    next_retry: int = 0
    deadline: int = 0

    @property
    def key(self) -> bytes:
        return decode_id(self.push_id, "push_id")

    def encode(self) -> bytes:
        doc: dict[str, Any] = {
            "process": b64url_encode(self.process),
            "slot": self.slot,
            "result_depth": self.result_depth,
            "max_hops": self.max_hops,
            "started": self.started,
            "state": self.state,
            "delivered": self.delivered,
            "existing": self.existing,
            "error": self.error,
            "finished": self.finished,
            "undelivered": self.undelivered,
            "attempts": self.attempts,
            "next_retry": self.next_retry,
            "deadline": self.deadline,
        }
        if self.tree is not None:
            doc["tree"] = tree_to_doc(self.tree)
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, push_id: str, raw: bytes) -> PushRecord:
        doc = json.loads(raw)
        return cls(
            push_id=push_id,
            process=b64url_decode(doc["process"]),
            slot=int(doc["slot"]),
            result_depth=int(doc["result_depth"]),
            max_hops=int(doc["max_hops"]),
            started=int(doc["started"]),
            state=doc["state"],
            delivered=int(doc["delivered"]),
            existing=int(doc["existing"]),
            error=str(doc["error"]),
            finished=int(doc["finished"]),
            tree=tree_from_doc(doc["tree"]) if "tree" in doc else None,
            undelivered=int(doc.get("undelivered", 0)),
            attempts=int(doc.get("attempts", 0)),
            next_retry=int(doc.get("next_retry", 0)),
            deadline=int(doc.get("deadline", 0)),
        )

    def report(self) -> PushReport:
        """As `GetPush` shows it; a record without a tree (still running) has only its root."""
        from aonode.ids import encode_id

        tree = self.tree or PushNode(process=encode_id(self.process), slot=self.slot, kind="root")
        return PushReport(
            self.push_id, self.state, tree, self.delivered, self.existing, self.error, self.undelivered
        )

    def put(self, batch: WriteBatch) -> None:
        batch.put(RUNS, self.key, self.encode())
        if self.state in ("done", "failed"):  # an incomplete push is not finished: it is retried
            batch.put(DONE, u64(self.finished) + self.key, b"")


_FIELDS = ("process", "slot", "message_id", "kind", "from_process", "from_slot", "index", "stopped", "node")


def tree_to_doc(node: PushNode) -> dict[str, Any]:
    doc: dict[str, Any] = {name: getattr(node, name) for name in _FIELDS}
    doc["existing"] = node.existing
    if node.result is not None:
        doc["result"] = b64url_encode(encode_result(node.result))
    doc["children"] = [tree_to_doc(c) for c in node.children]
    return doc


def tree_from_doc(doc: dict[str, Any]) -> PushNode:
    node = PushNode(**{name: doc[name] for name in _FIELDS})
    node.existing = bool(doc["existing"])
    if "result" in doc:
        node.result = decode_result(b64url_decode(doc["result"]))
    node.children = [tree_from_doc(c) for c in doc["children"]]
    return node
