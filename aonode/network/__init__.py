"""The node network: peers, signed location records kept fresh by gossip, the process directory, and the
relays this node trusts.

- `service.Network`: peers and relays (operator actions, persisted), this node's own location record,
  the gossip loop (`ExchangeLocations` with peers and known nodes), the answering side of the directory.
- `directory.ProcessDirectory`: finds the scheduler of a process never seen here by asking the peers;
  answers are verified (`port.verify_proof`) before anything is kept.
- `peers`: the records, their tables, and the operator-request check.
- `port`: the `PeerPort` the wire layer implements (aonode/rpc/network_client.py) and `ProcessProof`.

docs/network.md is the operator's view.
"""

from aonode.network.directory import DirectoryConfig, ProcessDirectory
from aonode.network.peers import Peer, TrustedRelay, parse_peer
from aonode.network.port import ForgedAnswerError, PeerPort, ProcessProof, verify_proof
from aonode.network.service import Network, NetworkConfig

__all__ = [
    "DirectoryConfig",
    "ForgedAnswerError",
    "Network",
    "NetworkConfig",
    "Peer",
    "PeerPort",
    "ProcessDirectory",
    "ProcessProof",
    "TrustedRelay",
    "parse_peer",
    "verify_proof",
]
