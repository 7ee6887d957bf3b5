"""/metrics of a real node (gRPC + `--metrics` HTTP port on one event loop): schedule, compute, push and
cron traffic moves each counter by exactly what was done; requests are counted by RPC and status (errors
too); the store and worker cache report their sizes; two nodes in one process keep separate registries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY

from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.v1 import scheduler_pb2
from tests.compute.lua_helpers import needs_lua
from tests.conftest import ServerThread, make_config, wait_for
from tests.metrics.scrape import Samples, delta, scrape, value
from tests.push.helpers import PING_SELF

USER = Ed25519Signer.generate()
CRON = {"min_interval_ms": 50, "scan_interval_ms": 100, "backoff_base_ms": 100, "backoff_max_ms": 400}
SCHEDULER = "aonode.v1.SchedulerService/"
PROCESS = "aonode.v1.ProcessService/"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path / "n", metrics="127.0.0.1:0", extra={"cron": CRON})).start()
    try:
        yield running
    finally:
        running.stop()


def metrics_address(server: ServerThread) -> str:
    assert server.running is not None and server.running.metrics is not None
    return server.running.metrics.address


def spawn(client: NodeClient, node: str, boot: str = "") -> str:
    process = build_process(
        USER,
        module=encode_id(runtime_module().id),
        scheduler=node,
        device="lua@5.3a",
        tags=[("Authority", node), ("On-Boot", "Data")] if boot else [],
        data=boot.encode(),
    )
    client.schedule(process)
    return encode_id(process.id)


def requests(samples: Samples, rpc: str, code: str = "OK") -> float:
    return value(samples, "aonode_rpc_requests_total", {"rpc": rpc, "code": code})


@needs_lua
def test_traffic_moves_the_counters(server: ServerThread) -> None:
    address = metrics_address(server)
    with NodeClient(server.address, timeout=60) as client:
        node = client.info().address
        before = scrape(address)
        assert value(before, "aonode_node_info", {"version": server.node.version, "address": node}) == 1

        pid = spawn(client, node, PING_SELF)  # slot 0
        slot = client.schedule(build_message(USER, pid, action="Ping", tags=[("Count", "1")])).slot
        report = client.push(pid, slot)  # computes slots 0..10, delivers 9 pings (slots 2..10)
        assert report.state == "done" and report.delivered == 9
        again = client.push(pid, slot)  # every delivery exists already
        assert again.existing == 9
        assert client.compute(pid, 10).slot == 10  # stored: served from the store
        with pytest.raises(ClientError) as caught:
            client.compute(encode_id(bytes(32)), 0)
        assert caught.value.code == "NOT_FOUND"
        with pytest.raises(ClientError) as caught:
            client.get_push("not-a-push-id")
        assert caught.value.code == "INVALID_ARGUMENT"
        streamed = list(client.schedule_stream([build_message(USER, pid, action="Noop") for _ in range(3)]))
        assert [getattr(a, "slot", None) for a in streamed] == [11, 12, 13]

        task = client.cron_once(USER, pid, in_="100-milliseconds", tags=[("Action", "Tick")])
        wait_for(lambda: value(scrape(address), "aonode_cron_ticks_total", {"outcome": "fired"}) >= 1)
        wait_for(lambda: client.get_slot(pid).current_slot == 14)
        assert task.task

        after = scrape(address)

    # Slots: the Process, the Ping, 9 push deliveries, 3 streamed, 1 cron tick.
    assert delta(after, before, "aonode_slots_scheduled_total") == 15
    assert delta(after, before, "aonode_slots_computed_total") == 11  # slots 0..10, once each
    assert delta(after, before, "aonode_push_deliveries_total", {"outcome": "delivered"}) == 9
    assert delta(after, before, "aonode_push_deliveries_total", {"outcome": "existing"}) == 9
    assert value(after, "aonode_push_deliveries_total", {"outcome": "relay_limit"}) == 0  # present, at 0
    assert delta(after, before, "aonode_cron_ticks_total", {"outcome": "fired"}) == 1
    assert value(after, "aonode_cron_ticks_total", {"outcome": "failed"}) == 0
    # One latency observation per single-message schedule (streams are not), per Compute.
    assert delta(after, before, "aonode_schedule_latency_seconds_count") == 12
    assert value(after, "aonode_schedule_latency_seconds_sum") > 0
    stored = {"source": "store"}
    assert delta(after, before, "aonode_compute_latency_seconds_count", stored) >= 1
    assert delta(after, before, "aonode_compute_latency_seconds_count", {"source": "computed"}) >= 1

    # Requests by RPC and status, errors included.
    assert (
        delta(after, before, "aonode_rpc_requests_total", {"rpc": SCHEDULER + "Schedule", "code": "OK"}) == 2
    )
    assert requests(after, PROCESS + "Push") - requests(before, PROCESS + "Push") == 2
    assert requests(after, PROCESS + "Compute", "NOT_FOUND") == 1
    assert requests(after, PROCESS + "GetPush", "INVALID_ARGUMENT") == 1
    assert requests(after, SCHEDULER + "ScheduleStream") == 1  # a streaming RPC, counted once at its end
    assert requests(after, "aonode.v1.CronService/Once") == 1
    assert requests(after, "aonode.v1.NodeService/GetInfo") >= 1

    # Sizes read at scrape time.
    assert value(after, "aonode_store_size_bytes") > value(before, "aonode_store_size_bytes") > 0
    assert value(after, "aonode_store_free_bytes") > 0
    assert value(after, "aonode_store_objects") > 0
    assert value(after, "aonode_worker_cache_bytes") > 0  # the process's live worker
    assert value(after, "aonode_workers") == 1
    # The metrics port counts its own scrapes.
    assert (
        value(after, "aonode_http_requests_total", {"route": "/metrics", "method": "GET", "status": "200"})
        >= 2
    )


def test_two_nodes_in_one_process_have_separate_registries(tmp_path: Path) -> None:
    a = ServerThread(make_config(tmp_path / "a", metrics="127.0.0.1:0")).start()
    b = ServerThread(make_config(tmp_path / "b", metrics="127.0.0.1:0")).start()
    try:
        assert a.node.metrics.registry is not b.node.metrics.registry
        with NodeClient(a.address) as client:
            node = client.info().address
            process = build_process(
                USER, module=encode_id(runtime_module().id), scheduler=node, device="lua@5.3a"
            )
            client.schedule(process)
        on_a, on_b = scrape(metrics_address(a)), scrape(metrics_address(b))
        assert value(on_a, "aonode_slots_scheduled_total") == 1
        assert value(on_b, "aonode_slots_scheduled_total") == 0
        assert requests(on_a, SCHEDULER + "Schedule") == 1
        assert requests(on_b, SCHEDULER + "Schedule") == 0
        assert value(on_a, "aonode_node_info", {"version": a.node.version, "address": a.node.address}) == 1
        assert value(on_b, "aonode_node_info", {"version": b.node.version, "address": a.node.address}) == 0
        # Nothing goes to prometheus_client's process-wide default registry.
        assert not [m for m in REGISTRY.collect() if m.name.startswith("aonode_")]
    finally:
        a.stop()
        b.stop()


def test_no_metrics_port_unless_configured(tmp_path: Path) -> None:
    """Off by default; the node still keeps its registry (the gateway serves it on its own port)."""
    server = ServerThread(make_config(tmp_path / "n")).start()
    try:
        assert server.running is not None and server.running.metrics is None
        with NodeClient(server.address) as client:
            client.info()
        text, content_type = server.node.metrics.exposition()
        assert content_type.startswith("text/plain")
        assert b'aonode_rpc_requests_total{code="OK",rpc="aonode.v1.NodeService/GetInfo"} 1.0' in text
    finally:
        server.stop()


def test_streams_count_their_end_status(server: ServerThread) -> None:
    """A server stream counts once, when it ends: CANCELLED when the client goes away mid-stream, the
    error's status when it fails at once."""
    address = metrics_address(server)
    with NodeClient(server.address) as client:
        node = client.info().address
        process = build_process(
            USER, module=encode_id(runtime_module().id), scheduler=node, device="lua@5.3a"
        )
        client.schedule(process)
        request = scheduler_pb2.SubscribeScheduleRequest(process=encode_id(process.id))
        stream = client.scheduler.SubscribeSchedule(request)
        first = next(stream)
        assert first.assignments[0].slot == 0
        stream.cancel()
        subscribe = SCHEDULER + "SubscribeSchedule"
        wait_for(lambda: requests(scrape(address), subscribe, "CANCELLED") == 1)
        with pytest.raises(grpc.RpcError) as caught:
            next(client.scheduler.SubscribeSchedule(scheduler_pb2.SubscribeScheduleRequest(process="x")))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        wait_for(lambda: requests(scrape(address), subscribe, "INVALID_ARGUMENT") == 1)
        assert requests(scrape(address), subscribe, "OK") == 0


def test_docs_list_every_metric(server: ServerThread) -> None:
    """docs/metrics.md has a row for every metric family the node exposes (and no row for one it lacks)."""
    from prometheus_client.parser import text_string_to_metric_families

    text, _ = server.node.metrics.exposition()
    exposed = set()
    for family in text_string_to_metric_families(text.decode()):
        name = family.name + ("_total" if family.type == "counter" else "")
        if not name.endswith("_created"):
            exposed.add(name)
    docs = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"^\| `(aonode_[a-z_]+)` \|", docs, re.MULTILINE))
    assert exposed == documented, (exposed - documented, documented - exposed)
