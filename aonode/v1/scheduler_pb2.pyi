from aonode.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssignmentFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSIGNMENT_FORMAT_UNSPECIFIED: _ClassVar[AssignmentFormat]
    ASSIGNMENT_FORMAT_FIELDS: _ClassVar[AssignmentFormat]
    ASSIGNMENT_FORMAT_CANONICAL: _ClassVar[AssignmentFormat]
ASSIGNMENT_FORMAT_UNSPECIFIED: AssignmentFormat
ASSIGNMENT_FORMAT_FIELDS: AssignmentFormat
ASSIGNMENT_FORMAT_CANONICAL: AssignmentFormat

class ScheduleRequest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _types_pb2.Message
    def __init__(self, message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class ScheduleResponse(_message.Message):
    __slots__ = ("assignment", "message_id")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    assignment: _types_pb2.Assignment
    message_id: str
    def __init__(self, assignment: _Optional[_Union[_types_pb2.Assignment, _Mapping]] = ..., message_id: _Optional[str] = ...) -> None: ...

class ScheduleStreamRequest(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_types_pb2.Message]
    def __init__(self, messages: _Optional[_Iterable[_Union[_types_pb2.Message, _Mapping]]] = ...) -> None: ...

class ScheduleOutcome(_message.Message):
    __slots__ = ("assignment", "error")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    assignment: _types_pb2.Assignment
    error: StreamError
    def __init__(self, assignment: _Optional[_Union[_types_pb2.Assignment, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ScheduleStreamResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[ScheduleOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[ScheduleOutcome, _Mapping]]] = ...) -> None: ...

class GetScheduleRequest(_message.Message):
    __slots__ = ("process", "from_slot", "to_slot", "limit", "page_token", "include_messages")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    TO_SLOT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    process: str
    from_slot: int
    to_slot: int
    limit: int
    page_token: str
    include_messages: bool
    def __init__(self, process: _Optional[str] = ..., from_slot: _Optional[int] = ..., to_slot: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ..., include_messages: _Optional[bool] = ...) -> None: ...

class GetScheduleResponse(_message.Message):
    __slots__ = ("process", "assignments", "messages", "has_next", "next_page_token")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    process: str
    assignments: _containers.RepeatedCompositeFieldContainer[_types_pb2.Assignment]
    messages: _containers.RepeatedCompositeFieldContainer[_types_pb2.Message]
    has_next: bool
    next_page_token: str
    def __init__(self, process: _Optional[str] = ..., assignments: _Optional[_Iterable[_Union[_types_pb2.Assignment, _Mapping]]] = ..., messages: _Optional[_Iterable[_Union[_types_pb2.Message, _Mapping]]] = ..., has_next: _Optional[bool] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSlotRequest(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: str
    def __init__(self, process: _Optional[str] = ...) -> None: ...

class GetSlotResponse(_message.Message):
    __slots__ = ("process", "current_slot", "timestamp", "block_height", "block_hash", "hash_chain", "scheduler")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SLOT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_CHAIN_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    process: str
    current_slot: int
    timestamp: int
    block_height: int
    block_hash: str
    hash_chain: str
    scheduler: str
    def __init__(self, process: _Optional[str] = ..., current_slot: _Optional[int] = ..., timestamp: _Optional[int] = ..., block_height: _Optional[int] = ..., block_hash: _Optional[str] = ..., hash_chain: _Optional[str] = ..., scheduler: _Optional[str] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("address", "processes", "timestamp", "stalled")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STALLED_FIELD_NUMBER: _ClassVar[int]
    address: str
    processes: _containers.RepeatedScalarFieldContainer[str]
    timestamp: int
    stalled: _containers.RepeatedCompositeFieldContainer[_types_pb2.ProcessStall]
    def __init__(self, address: _Optional[str] = ..., processes: _Optional[_Iterable[str]] = ..., timestamp: _Optional[int] = ..., stalled: _Optional[_Iterable[_Union[_types_pb2.ProcessStall, _Mapping]]] = ...) -> None: ...

class GetAssignmentRequest(_message.Message):
    __slots__ = ("message_id", "process_id")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PROCESS_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    process_id: str
    def __init__(self, message_id: _Optional[str] = ..., process_id: _Optional[str] = ...) -> None: ...

class AssignRequest(_message.Message):
    __slots__ = ("process", "message_id")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    process: str
    message_id: str
    def __init__(self, process: _Optional[str] = ..., message_id: _Optional[str] = ...) -> None: ...

class AssignResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _types_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_types_pb2.Assignment, _Mapping]] = ...) -> None: ...

class GetAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _types_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_types_pb2.Assignment, _Mapping]] = ...) -> None: ...

class PublishMessageRequest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _types_pb2.Message
    def __init__(self, message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class PublishMessageResponse(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class GetMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _types_pb2.Message
    def __init__(self, message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class GetLocationRequest(_message.Message):
    __slots__ = ("address",)
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    address: str
    def __init__(self, address: _Optional[str] = ...) -> None: ...

class GetLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: _types_pb2.Location
    def __init__(self, location: _Optional[_Union[_types_pb2.Location, _Mapping]] = ...) -> None: ...

class RegisterLocationRequest(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: _types_pb2.Location
    def __init__(self, location: _Optional[_Union[_types_pb2.Location, _Mapping]] = ...) -> None: ...

class RegisterLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: _types_pb2.Location
    def __init__(self, location: _Optional[_Union[_types_pb2.Location, _Mapping]] = ...) -> None: ...

class SubscribeScheduleRequest(_message.Message):
    __slots__ = ("process", "from_slot", "include_messages", "format")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    process: str
    from_slot: int
    include_messages: bool
    format: AssignmentFormat
    def __init__(self, process: _Optional[str] = ..., from_slot: _Optional[int] = ..., include_messages: _Optional[bool] = ..., format: _Optional[_Union[AssignmentFormat, str]] = ...) -> None: ...

class SubscribeScheduleResponse(_message.Message):
    __slots__ = ("assignments", "messages", "current_slot", "encoded_assignments")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SLOT_FIELD_NUMBER: _ClassVar[int]
    ENCODED_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[_types_pb2.Assignment]
    messages: _containers.RepeatedCompositeFieldContainer[_types_pb2.Message]
    current_slot: int
    encoded_assignments: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, assignments: _Optional[_Iterable[_Union[_types_pb2.Assignment, _Mapping]]] = ..., messages: _Optional[_Iterable[_Union[_types_pb2.Message, _Mapping]]] = ..., current_slot: _Optional[int] = ..., encoded_assignments: _Optional[_Iterable[bytes]] = ...) -> None: ...
