"""The HTTP gateway: a second wire beside `aonode/rpc/` that serves HyperBEAM's HyperPATHs and the routes
AO's own client (`@permaweb/aoconnect`, legacy and mainnet modes) uses, on the same node, store and event
loop as gRPC (`aonode serve --http HOST:PORT`).

It holds no AO logic: each route translates to the domain calls the gRPC servicers make (scheduler,
compute engine, pusher, cron) and answers JSON in the shape the client expects (`shapes.py`); errors map
to HTTP statuses through one table (`status.py`) derived from the same domain errors. ANS-104 items are
parsed and verified by `aonode.ans104` only. docs/http.md lists every route.
"""

from aonode.gateway.app import RunningGateway, build_app, start_gateway

__all__ = ["RunningGateway", "build_app", "start_gateway"]
