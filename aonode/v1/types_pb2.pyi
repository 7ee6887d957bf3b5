from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignatureScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_SCHEME_UNSPECIFIED: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_ED25519: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_RSA_PSS_SHA512: _ClassVar[SignatureScheme]
SIGNATURE_SCHEME_UNSPECIFIED: SignatureScheme
SIGNATURE_SCHEME_ED25519: SignatureScheme
SIGNATURE_SCHEME_RSA_PSS_SHA512: SignatureScheme

class Tag(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Signature(_message.Message):
    __slots__ = ("scheme", "owner", "value")
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    scheme: SignatureScheme
    owner: bytes
    value: bytes
    def __init__(self, scheme: _Optional[_Union[SignatureScheme, str]] = ..., owner: _Optional[bytes] = ..., value: _Optional[bytes] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("target", "anchor", "tags", "data", "signature", "ans104")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ANS104_FIELD_NUMBER: _ClassVar[int]
    target: str
    anchor: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    data: bytes
    signature: Signature
    ans104: bytes
    def __init__(self, target: _Optional[str] = ..., anchor: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., data: _Optional[bytes] = ..., signature: _Optional[_Union[Signature, _Mapping]] = ..., ans104: _Optional[bytes] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("process", "slot", "message", "timestamp", "block_height", "block_hash", "epoch", "hash_chain", "signature", "id")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HASH_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    HASH_CHAIN_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    message: str
    timestamp: int
    block_height: int
    block_hash: str
    epoch: int
    hash_chain: str
    signature: Signature
    id: str
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., message: _Optional[str] = ..., timestamp: _Optional[int] = ..., block_height: _Optional[int] = ..., block_hash: _Optional[str] = ..., epoch: _Optional[int] = ..., hash_chain: _Optional[str] = ..., signature: _Optional[_Union[Signature, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class Output(_message.Message):
    __slots__ = ("data", "prompt", "print")
    DATA_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    PRINT_FIELD_NUMBER: _ClassVar[int]
    data: str
    prompt: str
    print: bool
    def __init__(self, data: _Optional[str] = ..., prompt: _Optional[str] = ..., print: _Optional[bool] = ...) -> None: ...

class ResultAssignment(_message.Message):
    __slots__ = ("processes", "message")
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    processes: _containers.RepeatedScalarFieldContainer[str]
    message: str
    def __init__(self, processes: _Optional[_Iterable[str]] = ..., message: _Optional[str] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("output", "messages", "spawns", "assignments", "error", "gas_used")
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    SPAWNS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GAS_USED_FIELD_NUMBER: _ClassVar[int]
    output: Output
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    spawns: _containers.RepeatedCompositeFieldContainer[Message]
    assignments: _containers.RepeatedCompositeFieldContainer[ResultAssignment]
    error: str
    gas_used: int
    def __init__(self, output: _Optional[_Union[Output, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., spawns: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., assignments: _Optional[_Iterable[_Union[ResultAssignment, _Mapping]]] = ..., error: _Optional[str] = ..., gas_used: _Optional[int] = ...) -> None: ...

class Location(_message.Message):
    __slots__ = ("address", "url", "nonce", "ttl_ms", "timestamp", "signature")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    TTL_MS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    address: str
    url: str
    nonce: int
    ttl_ms: int
    timestamp: int
    signature: Signature
    def __init__(self, address: _Optional[str] = ..., url: _Optional[str] = ..., nonce: _Optional[int] = ..., ttl_ms: _Optional[int] = ..., timestamp: _Optional[int] = ..., signature: _Optional[_Union[Signature, _Mapping]] = ...) -> None: ...

class ProcessStall(_message.Message):
    __slots__ = ("process", "slot", "since_ms", "wall_seconds", "reason")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    since_ms: int
    wall_seconds: float
    reason: str
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., since_ms: _Optional[int] = ..., wall_seconds: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...
