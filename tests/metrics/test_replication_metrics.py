"""Replication lag on a follower's /metrics: per followed process, in slots and ms, from the replica
manager; slots stored from the leader counted apart from slots this node assigned."""

from __future__ import annotations

from pathlib import Path

from aonode.client import NodeClient
from tests.conftest import ServerThread, make_config, wait_for
from tests.metrics.scrape import scrape, value
from tests.replication.helpers import add_replica, send, spawn, stored_slot


def test_follower_reports_lag_per_process(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower", metrics="127.0.0.1:0")).start()
    try:
        assert follower.running is not None and follower.running.metrics is not None
        address = follower.running.metrics.address
        with NodeClient(leader.address) as to_leader:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 20)
            replica = add_replica(follower, leader.address, [pid])
            wait_for(lambda: stored_slot(follower, pid) == 20)
            labels = {"replica": replica.id, "process": pid}
            wait_for(lambda: ("aonode_replication_lag_slots", frozenset(labels.items())) in scrape(address))
            samples = scrape(address)
        assert value(samples, "aonode_replication_lag_slots", labels) == 0  # caught up
        # milliseconds, not seconds or µs: the follower clamps at 0, and the test ran well under a minute
        assert 0 <= value(samples, "aonode_replication_lag_ms", labels) < 60_000
        assert ("aonode_replication_lag_ms", frozenset(labels.items())) in samples
        assert value(samples, "aonode_slots_replicated_total") == 21  # slots 0..20
        assert value(samples, "aonode_slots_scheduled_total") == 0  # none assigned here
    finally:
        follower.stop()
        leader.stop()


def test_lag_in_slots_is_what_the_leader_has_beyond_the_store(tmp_path: Path) -> None:
    """The collector's arithmetic on the manager's status (leader_slot - stored_slot), without a leader."""
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    try:
        from aonode.replication.follower import ProcessStatus, ReplicaSpec, ReplicaStatus

        status = ReplicaStatus(
            ReplicaSpec("r1", "127.0.0.1:1", [bytes(32)]),
            "following",
            "",
            [ProcessStatus(bytes(32), stored_slot=7, leader_slot=12, lag_ms=250)],
        )
        follower.node.replication.list = lambda process=None: [status]  # type: ignore[method-assign]
        text, _ = follower.node.metrics.exposition()
        labels = 'process="' + "A" * 43 + '",replica="r1"'
        assert f"aonode_replication_lag_slots{{{labels}}} 5.0".encode() in text
        assert f"aonode_replication_lag_ms{{{labels}}} 250.0".encode() in text
    finally:
        follower.stop()
