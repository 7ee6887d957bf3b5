"""Registering a servicer object for a service descriptor, with parsing and errors handled in one place.

grpcio answers a request it cannot deserialize with INTERNAL. We register every method with a bytes-in
deserializer and parse inside the handler, so malformed input gets INVALID_ARGUMENT. The servicer's
method (named as the RPC) receives the parsed request; for client-streaming RPCs, an async iterator of
parsed requests. A method the servicer lacks answers UNIMPLEMENTED with the RPC's name. Errors raised by
a method are mapped by `status.status_for`; unexpected ones are logged and answered INTERNAL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as PbMessage
from google.protobuf.message_factory import GetMessageClass

from aonode.errors import AonodeError
from aonode.rpc.status import status_for, trailing_metadata

log = logging.getLogger("aonode.rpc")

# grpc.aio.ServicerContext; grpcio ships no type information, so it is Any to mypy.
Context: TypeAlias = Any


class Unimplemented(AonodeError):
    status = "UNIMPLEMENTED"


async def abort_with(context: Context, error: BaseException, rpc: str) -> None:
    """End the call with the status for `error` (INTERNAL, without its text, for a bug)."""
    code = status_for(error)
    if code is None:
        log.error("unexpected error in %s", rpc, exc_info=error, extra={"fields": {"rpc": rpc}})
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {rpc}")
    metadata = trailing_metadata(error)
    if metadata:
        context.set_trailing_metadata(metadata)
    assert code is not None
    await context.abort(code, bounded_details(str(error) or type(error).__name__))


MAX_DETAILS_BYTES = 1024


def bounded_details(text: str) -> str:
    """`text` cut to MAX_DETAILS_BYTES of UTF-8. Error messages quote the offending input, and gRPC
    sends them percent-encoded in a trailer: an unbounded one (a 70 KB address) passes the client's
    16 KiB metadata limit, and the client then sees RESOURCE_EXHAUSTED "Stream removed" instead of the
    node's status."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= MAX_DETAILS_BYTES:
        return text
    return raw[: MAX_DETAILS_BYTES - 3].decode("utf-8", "ignore") + "..."


def _parse(cls: type[PbMessage], raw: bytes) -> PbMessage | None:
    try:
        return cls.FromString(raw)
    except (DecodeError, ValueError, TypeError):
        return None


def _serialize(message: PbMessage | bytes) -> bytes:
    """A response's wire bytes; a method may also return or yield them already serialized (bytes), as
    SubscribeSchedule does, and they go out untouched."""
    if type(message) is bytes:
        return message
    return message.SerializeToString()  # type: ignore[union-attr]


def _handler(method: MethodDescriptor, maybe_impl: Callable[..., Any] | None) -> grpc.RpcMethodHandler:
    rpc = method.full_name

    async def not_here(*_: Any) -> Any:
        raise Unimplemented(f"{rpc} is not implemented on this node yet")

    async def not_here_stream(*_: Any) -> AsyncIterator[Any]:
        raise Unimplemented(f"{rpc} is not implemented on this node yet")
        yield  # makes this an async generator, as server-streaming methods are

    impl: Callable[..., Any] = maybe_impl or (not_here_stream if method.server_streaming else not_here)
    request_cls = GetMessageClass(method.input_type)
    malformed = f"{method.name}: malformed request: not a valid {method.input_type.full_name}"

    async def parsed_stream(raw_stream: AsyncIterator[bytes], context: Context) -> AsyncIterator[PbMessage]:
        async for raw in raw_stream:
            request = _parse(request_cls, raw)
            if request is None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, malformed)
            assert request is not None
            yield request

    async def unary_in(raw: bytes, context: Context) -> PbMessage | None:
        request = _parse(request_cls, raw)
        if request is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, malformed)
        return request

    if not method.client_streaming and not method.server_streaming:

        async def unary_unary(raw: bytes, context: Context) -> Any:
            request = await unary_in(raw, context)
            try:
                return await impl(request, context)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as exc:
                await abort_with(context, exc, rpc)

        return grpc.unary_unary_rpc_method_handler(unary_unary, None, _serialize)

    if not method.client_streaming:

        async def unary_stream(raw: bytes, context: Context) -> AsyncIterator[Any]:
            request = await unary_in(raw, context)
            try:
                async for response in impl(request, context):
                    yield response
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as exc:
                await abort_with(context, exc, rpc)

        return grpc.unary_stream_rpc_method_handler(unary_stream, None, _serialize)

    if not method.server_streaming:

        async def stream_unary(raw_stream: AsyncIterator[bytes], context: Context) -> Any:
            try:
                return await impl(parsed_stream(raw_stream, context), context)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as exc:
                await abort_with(context, exc, rpc)

        return grpc.stream_unary_rpc_method_handler(stream_unary, None, _serialize)

    async def stream_stream(raw_stream: AsyncIterator[bytes], context: Context) -> AsyncIterator[Any]:
        try:
            async for response in impl(parsed_stream(raw_stream, context), context):
                yield response
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            await abort_with(context, exc, rpc)

    return grpc.stream_stream_rpc_method_handler(stream_stream, None, _serialize)


def register(server: grpc.aio.Server, service: ServiceDescriptor, servicer: object | None) -> None:
    """Serve every method of `service`, backed by same-named methods of `servicer` where they exist."""
    handlers = {}
    for method in service.methods:
        impl = getattr(servicer, method.name, None) if servicer is not None else None
        handlers[method.name] = _handler(method, impl)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
