"""The tags that make a process see a sender other than the message's signer, and who may set them.

A process computes `From` as `From-Process` if present, else `Cron-From`, else the signer (`Owner`)
(`aonode/devices/wasm/iface.py`, `aonode/devices/aos/runtime/process.lua`). So these tags claim an
identity the signer may not hold: `From-Process` is set by a node delivering a process's outbox (push),
`Cron-From` by a node firing a cron task (the task's creator, whose signed request it verified). The
scheduler refuses a message carrying either unless it is signed by this node or a configured trusted relay;
Dryrun refuses them outright (no delivery is a dryrun). Names compare case-insensitively, as tags do.
"""

from __future__ import annotations

from aonode.model import Message

FROM_PROCESS_TAG = "From-Process"
CRON_FROM_TAG = "Cron-From"
RELAYED_TAGS = (FROM_PROCESS_TAG, CRON_FROM_TAG)


def relayed_tag(message: Message) -> str | None:
    """The name of the first identity-claiming tag `message` carries, or None."""
    return next((name for name in RELAYED_TAGS if message.tag(name) is not None), None)
