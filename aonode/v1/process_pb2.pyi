from aonode.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PushMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_MODE_UNSPECIFIED: _ClassVar[PushMode]
    PUSH_MODE_SYNC: _ClassVar[PushMode]
    PUSH_MODE_ASYNC: _ClassVar[PushMode]

class PushState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_STATE_UNSPECIFIED: _ClassVar[PushState]
    PUSH_STATE_RUNNING: _ClassVar[PushState]
    PUSH_STATE_DONE: _ClassVar[PushState]
    PUSH_STATE_FAILED: _ClassVar[PushState]
    PUSH_STATE_INCOMPLETE: _ClassVar[PushState]
PUSH_MODE_UNSPECIFIED: PushMode
PUSH_MODE_SYNC: PushMode
PUSH_MODE_ASYNC: PushMode
PUSH_STATE_UNSPECIFIED: PushState
PUSH_STATE_RUNNING: PushState
PUSH_STATE_DONE: PushState
PUSH_STATE_FAILED: PushState
PUSH_STATE_INCOMPLETE: PushState

class SlotResult(_message.Message):
    __slots__ = ("process", "slot", "result", "hashpath", "result_digest")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    HASHPATH_FIELD_NUMBER: _ClassVar[int]
    RESULT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    result: _types_pb2.Result
    hashpath: str
    result_digest: str
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., result: _Optional[_Union[_types_pb2.Result, _Mapping]] = ..., hashpath: _Optional[str] = ..., result_digest: _Optional[str] = ...) -> None: ...

class ComputeRequest(_message.Message):
    __slots__ = ("process", "slot")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ...) -> None: ...

class ComputeResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: SlotResult
    def __init__(self, result: _Optional[_Union[SlotResult, _Mapping]] = ...) -> None: ...

class NowRequest(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: str
    def __init__(self, process: _Optional[str] = ...) -> None: ...

class NowResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: SlotResult
    def __init__(self, result: _Optional[_Union[SlotResult, _Mapping]] = ...) -> None: ...

class DryrunRequest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _types_pb2.Message
    def __init__(self, message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class DryrunResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _types_pb2.Result
    def __init__(self, result: _Optional[_Union[_types_pb2.Result, _Mapping]] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("process", "slot")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ...) -> None: ...

class SnapshotPage(_message.Message):
    __slots__ = ("index", "digest")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    index: int
    digest: str
    def __init__(self, index: _Optional[int] = ..., digest: _Optional[str] = ...) -> None: ...

class GetSnapshotResponse(_message.Message):
    __slots__ = ("process", "slot", "device", "memory_size", "page_size", "pages", "manifest_digest")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    device: str
    memory_size: int
    page_size: int
    pages: _containers.RepeatedCompositeFieldContainer[SnapshotPage]
    manifest_digest: str
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., device: _Optional[str] = ..., memory_size: _Optional[int] = ..., page_size: _Optional[int] = ..., pages: _Optional[_Iterable[_Union[SnapshotPage, _Mapping]]] = ..., manifest_digest: _Optional[str] = ...) -> None: ...

class PushRequest(_message.Message):
    __slots__ = ("process", "slot", "mode", "result_depth", "max_hops")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    RESULT_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MAX_HOPS_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    mode: PushMode
    result_depth: int
    max_hops: int
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., mode: _Optional[_Union[PushMode, str]] = ..., result_depth: _Optional[int] = ..., max_hops: _Optional[int] = ...) -> None: ...

class PushNode(_message.Message):
    __slots__ = ("process", "slot", "message_id", "from_process", "from_slot", "outbox_index", "result", "children", "stopped", "node", "kind", "existing")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_PROCESS_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_INDEX_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    message_id: str
    from_process: str
    from_slot: int
    outbox_index: int
    result: _types_pb2.Result
    children: _containers.RepeatedCompositeFieldContainer[PushNode]
    stopped: str
    node: str
    kind: str
    existing: bool
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., message_id: _Optional[str] = ..., from_process: _Optional[str] = ..., from_slot: _Optional[int] = ..., outbox_index: _Optional[int] = ..., result: _Optional[_Union[_types_pb2.Result, _Mapping]] = ..., children: _Optional[_Iterable[_Union[PushNode, _Mapping]]] = ..., stopped: _Optional[str] = ..., node: _Optional[str] = ..., kind: _Optional[str] = ..., existing: _Optional[bool] = ...) -> None: ...

class PushResponse(_message.Message):
    __slots__ = ("push_id", "state", "tree", "undelivered")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TREE_FIELD_NUMBER: _ClassVar[int]
    UNDELIVERED_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    state: PushState
    tree: PushNode
    undelivered: int
    def __init__(self, push_id: _Optional[str] = ..., state: _Optional[_Union[PushState, str]] = ..., tree: _Optional[_Union[PushNode, _Mapping]] = ..., undelivered: _Optional[int] = ...) -> None: ...

class GetPushRequest(_message.Message):
    __slots__ = ("push_id",)
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    def __init__(self, push_id: _Optional[str] = ...) -> None: ...

class GetPushResponse(_message.Message):
    __slots__ = ("push_id", "state", "tree", "delivered", "error", "existing", "undelivered")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TREE_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    UNDELIVERED_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    state: PushState
    tree: PushNode
    delivered: int
    error: str
    existing: int
    undelivered: int
    def __init__(self, push_id: _Optional[str] = ..., state: _Optional[_Union[PushState, str]] = ..., tree: _Optional[_Union[PushNode, _Mapping]] = ..., delivered: _Optional[int] = ..., error: _Optional[str] = ..., existing: _Optional[int] = ..., undelivered: _Optional[int] = ...) -> None: ...

class GetProcessStatusRequest(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: str
    def __init__(self, process: _Optional[str] = ...) -> None: ...

class GetProcessStatusResponse(_message.Message):
    __slots__ = ("process", "current_slot", "computed_slot", "stall")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SLOT_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_SLOT_FIELD_NUMBER: _ClassVar[int]
    STALL_FIELD_NUMBER: _ClassVar[int]
    process: str
    current_slot: int
    computed_slot: int
    stall: _types_pb2.ProcessStall
    def __init__(self, process: _Optional[str] = ..., current_slot: _Optional[int] = ..., computed_slot: _Optional[int] = ..., stall: _Optional[_Union[_types_pb2.ProcessStall, _Mapping]] = ...) -> None: ...

class ResumeProcessRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class ResumeProcessResponse(_message.Message):
    __slots__ = ("lifted",)
    LIFTED_FIELD_NUMBER: _ClassVar[int]
    lifted: _types_pb2.ProcessStall
    def __init__(self, lifted: _Optional[_Union[_types_pb2.ProcessStall, _Mapping]] = ...) -> None: ...
