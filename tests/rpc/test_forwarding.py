"""Two nodes on 127.0.0.1: a Process naming the other node's scheduler is redirected, or forwarded when
the node follows redirects."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_module, build_process
from aonode.crypto import Ed25519Signer, sign_location
from aonode.ids import encode_id
from aonode.model import Location
from aonode.rpc.convert import location_to_pb
from aonode.v1 import scheduler_pb2
from tests.conftest import ServerThread, make_config


def NOW() -> int:
    """Now in ms: location records must be valid now (an expired one is never used)."""
    return int(time.time() * 1000)


@pytest.mark.parametrize("follow", [False, True])
def test_process_for_another_scheduler(tmp_path: Path, follow: bool) -> None:
    home = ServerThread(make_config(tmp_path / "home")).start()
    front = ServerThread(make_config(tmp_path / "front", follow_redirects=follow)).start()
    user = Ed25519Signer.generate()
    try:
        with NodeClient(home.address) as to_home, NodeClient(front.address) as to_front:
            # the home node announces where it is; the front node learns it
            record = sign_location(
                Location("", home.address, nonce=1, ttl_ms=600_000, timestamp=NOW()),
                home.node.signer,
            )
            to_front.scheduler.RegisterLocation(
                scheduler_pb2.RegisterLocationRequest(location=location_to_pb(record))
            )
            module = to_home.publish(build_module(user, b"-- m\n", "text/x-lua"))
            process = build_process(user, module=module, scheduler=home.node.address, device="lua@5.3a")
            if follow:
                assignment = to_front.schedule(process)
                assert assignment.slot == 0 and encode_id(assignment.message) == encode_id(process.id)
                assert to_home.get_slot(encode_id(process.id)).current_slot == 0  # it lives on home
            else:
                with pytest.raises(ClientError) as caught:
                    to_front.schedule(process)
                assert caught.value.code == "FAILED_PRECONDITION"
                assert caught.value.metadata["aonode-location-url"] == home.address
    finally:
        front.stop()
        home.stop()
