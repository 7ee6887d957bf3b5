from aonode.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetInfoResponse(_message.Message):
    __slots__ = ("address", "version", "scheme", "devices", "runtime_module", "runtime_device", "owner", "limits")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_MODULE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_DEVICE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    address: str
    version: str
    scheme: _types_pb2.SignatureScheme
    devices: _containers.RepeatedScalarFieldContainer[str]
    runtime_module: str
    runtime_device: str
    owner: bytes
    limits: NodeLimits
    def __init__(self, address: _Optional[str] = ..., version: _Optional[str] = ..., scheme: _Optional[_Union[_types_pb2.SignatureScheme, str]] = ..., devices: _Optional[_Iterable[str]] = ..., runtime_module: _Optional[str] = ..., runtime_device: _Optional[str] = ..., owner: _Optional[bytes] = ..., limits: _Optional[_Union[NodeLimits, _Mapping]] = ...) -> None: ...

class NodeLimits(_message.Message):
    __slots__ = ("max_message_bytes", "max_result_bytes", "max_wall_seconds", "accept_unsigned")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_UNSIGNED_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_result_bytes: int
    max_wall_seconds: float
    accept_unsigned: bool
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_result_bytes: _Optional[int] = ..., max_wall_seconds: _Optional[float] = ..., accept_unsigned: _Optional[bool] = ...) -> None: ...

class EchoRequest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _types_pb2.Message
    def __init__(self, message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _types_pb2.Message
    def __init__(self, message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...
