from aonode.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CronMessage(_message.Message):
    __slots__ = ("process", "tags", "data")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    process: str
    tags: _containers.RepeatedCompositeFieldContainer[_types_pb2.Tag]
    data: bytes
    def __init__(self, process: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[_types_pb2.Tag, _Mapping]]] = ..., data: _Optional[bytes] = ...) -> None: ...

class CronTask(_message.Message):
    __slots__ = ("task", "message", "interval", "next_run", "runs", "failures", "last_error", "tick", "skipped", "origin", "created", "path", "cursor", "creator")
    TASK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    task: str
    message: CronMessage
    interval: str
    next_run: int
    runs: int
    failures: int
    last_error: str
    tick: int
    skipped: int
    origin: str
    created: int
    path: str
    cursor: int
    creator: str
    def __init__(self, task: _Optional[str] = ..., message: _Optional[_Union[CronMessage, _Mapping]] = ..., interval: _Optional[str] = ..., next_run: _Optional[int] = ..., runs: _Optional[int] = ..., failures: _Optional[int] = ..., last_error: _Optional[str] = ..., tick: _Optional[int] = ..., skipped: _Optional[int] = ..., origin: _Optional[str] = ..., created: _Optional[int] = ..., path: _Optional[str] = ..., cursor: _Optional[int] = ..., creator: _Optional[str] = ...) -> None: ...

class OnceRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _types_pb2.Message
    def __init__(self, request: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class OnceResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: CronTask
    def __init__(self, task: _Optional[_Union[CronTask, _Mapping]] = ...) -> None: ...

class EveryRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _types_pb2.Message
    def __init__(self, request: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class EveryResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: CronTask
    def __init__(self, task: _Optional[_Union[CronTask, _Mapping]] = ...) -> None: ...

class StopRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _types_pb2.Message
    def __init__(self, request: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class StopResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: CronTask
    def __init__(self, task: _Optional[_Union[CronTask, _Mapping]] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "process", "creator")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    process: str
    creator: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., process: _Optional[str] = ..., creator: _Optional[str] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[CronTask]
    next_page_token: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[CronTask, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
