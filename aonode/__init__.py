"""aonode: a node for AO processes.

Layers point one way: wire (`aonode.rpc`, `aonode.cli`, `clients/`) → domain (`aonode.scheduler`,
`aonode.compute`, `aonode.devices`, push, cron, replication) → model (`aonode.ids`, `aonode.codec`,
`aonode.crypto`, `aonode.model`) → `store`. Only the wire layer imports grpc or the generated code in
`aonode.v1`. Errors raised anywhere below the wire are subclasses of `aonode.errors.AonodeError`, each
naming its gRPC status; the wire layer's one table turns them into statuses.
"""

__version__ = "0.1.0"
