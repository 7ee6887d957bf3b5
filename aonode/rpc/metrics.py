"""`MetricsInterceptor`: counts every gRPC request by RPC and the status it was answered with.

A grpc.aio server interceptor wraps the method handler: the wrapper awaits the real behaviour, then reads
the call's status from its context (set by `context.abort` for an error, None for OK) and increments the
counter child of (RPC, status). Cheap on the hot path: the wrapped handler of each RPC is built once and
cached by method name (the continuation, which walks the generic handlers, runs only on a method's first
call), and counter children are cached by (RPC, status), so a call costs one extra coroutine frame, two
dict lookups and prometheus-client's increment.

Label values stay bounded whatever clients send: the RPC label is the method path of a registered method
(health and reflection included), and a call to any other path counts as `unknown` (grpc answers it
UNIMPLEMENTED before any handler runs). Requests grpc refuses before a handler runs (over
`max_concurrent_rpcs`, too large) are not seen here.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from aonode.metrics import NodeMetrics

UNKNOWN_RPC = "unknown"
_CANCELLED: str = grpc.StatusCode.CANCELLED.name
_UNKNOWN: str = grpc.StatusCode.UNKNOWN.name
_UNIMPLEMENTED: str = grpc.StatusCode.UNIMPLEMENTED.name

_Count = Callable[[str, str], None]


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, metrics: NodeMetrics) -> None:
        self._counter = metrics.rpc_requests
        self._children: dict[tuple[str, str], Any] = {}
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def count(self, rpc: str, code: str) -> None:
        key = (rpc, code)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._counter.labels(rpc, code)
        child.inc()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method: str = details.method
        cached = self._handlers.get(method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None:
            self.count(UNKNOWN_RPC, _UNIMPLEMENTED)
            return None
        wrapped = _wrap(handler, method.lstrip("/"), self.count)
        self._handlers[method] = wrapped
        return wrapped


def _code_of(context: Any) -> str:
    code = context.code()
    if code is None:
        return "OK"
    return str(code.name) if isinstance(code, grpc.StatusCode) else str(code)


def _failed_code(context: Any, exc: BaseException) -> str:
    """The status a call that raised `exc` ends with: the aborted code, else what grpc answers."""
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):  # the client went away mid-call
        return _CANCELLED
    code = context.code()
    if code is None or code == grpc.StatusCode.OK:
        return _UNKNOWN
    return str(code.name) if isinstance(code, grpc.StatusCode) else str(code)


def _wrap(handler: grpc.RpcMethodHandler, rpc: str, count: _Count) -> grpc.RpcMethodHandler:
    if handler.unary_unary is not None:
        return handler._replace(unary_unary=_unary(handler.unary_unary, rpc, count))
    if handler.stream_unary is not None:
        return handler._replace(stream_unary=_unary(handler.stream_unary, rpc, count))
    if handler.unary_stream is not None:
        return handler._replace(unary_stream=_streaming(handler.unary_stream, rpc, count))
    if handler.stream_stream is not None:
        return handler._replace(stream_stream=_streaming(handler.stream_stream, rpc, count))
    return handler


def _unary(behavior: Callable[..., Any], rpc: str, count: _Count) -> Callable[..., Any]:
    async def counted(request: Any, context: Any) -> Any:
        try:
            response = await behavior(request, context)
        except BaseException as exc:
            count(rpc, _failed_code(context, exc))
            raise
        count(rpc, _code_of(context))
        return response

    return counted


def _streaming(behavior: Callable[..., Any], rpc: str, count: _Count) -> Callable[..., Any]:
    if not inspect.isasyncgenfunction(behavior):
        # A streaming behaviour that writes with `context.write` and returns: a coroutine.
        return _unary(behavior, rpc, count)

    async def counted(request: Any, context: Any) -> AsyncIterator[Any]:
        try:
            async for response in behavior(request, context):
                yield response
        except BaseException as exc:
            count(rpc, _failed_code(context, exc))
            raise
        count(rpc, _code_of(context))

    return counted
