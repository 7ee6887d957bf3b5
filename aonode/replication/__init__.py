"""Node-to-node replication (docs/replication.md): followers that verify everything before storing it.

- `port.Leader`: how a follower talks to its leader (gRPC adapter: `aonode.rpc.replication`).
- `verify.check_frame`: signatures, hash chain, dense slots, slot 0 = the Process, equivocation.
- `follower.Follower`: one replica's loop (follow, verify, store through `Scheduler.submit_replicated`,
  resume at the last stored slot; recompute and compare result digests).
- `manager.Replication`: the node's replicas, persisted, and the operator actions on them.
- `results.result_digests`: a leader's stored result digests by slot range.
"""

from aonode.replication.follower import Follower, ProcessStatus, ReplicaSpec, ReplicaStatus
from aonode.replication.manager import Replication
from aonode.replication.port import FollowFrame, Leader, LeaderFactory, ResultDigests
from aonode.replication.results import result_digests
from aonode.replication.verify import Chain, Equivocation, Refused, Verified, check_frame

__all__ = [
    "Chain",
    "Equivocation",
    "FollowFrame",
    "Follower",
    "Leader",
    "LeaderFactory",
    "ProcessStatus",
    "Refused",
    "ReplicaSpec",
    "ReplicaStatus",
    "Replication",
    "ResultDigests",
    "Verified",
    "check_frame",
    "result_digests",
]
