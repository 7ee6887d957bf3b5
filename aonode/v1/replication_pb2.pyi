from aonode.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FollowCursor(_message.Message):
    __slots__ = ("process", "from_slot")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    process: str
    from_slot: int
    def __init__(self, process: _Optional[str] = ..., from_slot: _Optional[int] = ...) -> None: ...

class FollowRequest(_message.Message):
    __slots__ = ("processes", "all", "records")
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    processes: _containers.RepeatedCompositeFieldContainer[FollowCursor]
    all: bool
    records: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, processes: _Optional[_Iterable[_Union[FollowCursor, _Mapping]]] = ..., all: _Optional[bool] = ..., records: _Optional[_Iterable[bytes]] = ...) -> None: ...

class FollowResponse(_message.Message):
    __slots__ = ("process", "from_slot", "assignments", "messages", "current_slot", "leader_time_ms", "records")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SLOT_FIELD_NUMBER: _ClassVar[int]
    LEADER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    process: str
    from_slot: int
    assignments: _containers.RepeatedScalarFieldContainer[bytes]
    messages: _containers.RepeatedScalarFieldContainer[bytes]
    current_slot: int
    leader_time_ms: int
    records: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, process: _Optional[str] = ..., from_slot: _Optional[int] = ..., assignments: _Optional[_Iterable[bytes]] = ..., messages: _Optional[_Iterable[bytes]] = ..., current_slot: _Optional[int] = ..., leader_time_ms: _Optional[int] = ..., records: _Optional[_Iterable[bytes]] = ...) -> None: ...

class FetchObjectsRequest(_message.Message):
    __slots__ = ("digests",)
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    digests: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, digests: _Optional[_Iterable[bytes]] = ...) -> None: ...

class StoredObject(_message.Message):
    __slots__ = ("digest", "data")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    digest: bytes
    data: bytes
    def __init__(self, digest: _Optional[bytes] = ..., data: _Optional[bytes] = ...) -> None: ...

class FetchObjectsResponse(_message.Message):
    __slots__ = ("objects", "missing")
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    objects: _containers.RepeatedCompositeFieldContainer[StoredObject]
    missing: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, objects: _Optional[_Iterable[_Union[StoredObject, _Mapping]]] = ..., missing: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GetResultDigestsRequest(_message.Message):
    __slots__ = ("process", "from_slot", "count")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    process: str
    from_slot: int
    count: int
    def __init__(self, process: _Optional[str] = ..., from_slot: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class GetResultDigestsResponse(_message.Message):
    __slots__ = ("from_slot", "digests", "computed_slot")
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_SLOT_FIELD_NUMBER: _ClassVar[int]
    from_slot: int
    digests: _containers.RepeatedScalarFieldContainer[bytes]
    computed_slot: int
    def __init__(self, from_slot: _Optional[int] = ..., digests: _Optional[_Iterable[bytes]] = ..., computed_slot: _Optional[int] = ...) -> None: ...

class AddReplicaRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class AddReplicaResponse(_message.Message):
    __slots__ = ("replica",)
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    replica: Replica
    def __init__(self, replica: _Optional[_Union[Replica, _Mapping]] = ...) -> None: ...

class RemoveReplicaRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class RemoveReplicaResponse(_message.Message):
    __slots__ = ("replica",)
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    replica: Replica
    def __init__(self, replica: _Optional[_Union[Replica, _Mapping]] = ...) -> None: ...

class ListReplicasRequest(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: str
    def __init__(self, process: _Optional[str] = ...) -> None: ...

class ListReplicasResponse(_message.Message):
    __slots__ = ("replicas",)
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    replicas: _containers.RepeatedCompositeFieldContainer[Replica]
    def __init__(self, replicas: _Optional[_Iterable[_Union[Replica, _Mapping]]] = ...) -> None: ...

class Replica(_message.Message):
    __slots__ = ("id", "leader", "processes", "all", "state", "last_error", "process_status", "equivocations", "origin")
    ID_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    PROCESS_STATUS_FIELD_NUMBER: _ClassVar[int]
    EQUIVOCATIONS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    id: str
    leader: str
    processes: _containers.RepeatedScalarFieldContainer[str]
    all: bool
    state: str
    last_error: str
    process_status: _containers.RepeatedCompositeFieldContainer[ReplicaProcess]
    equivocations: _containers.RepeatedCompositeFieldContainer[Equivocation]
    origin: str
    def __init__(self, id: _Optional[str] = ..., leader: _Optional[str] = ..., processes: _Optional[_Iterable[str]] = ..., all: _Optional[bool] = ..., state: _Optional[str] = ..., last_error: _Optional[str] = ..., process_status: _Optional[_Iterable[_Union[ReplicaProcess, _Mapping]]] = ..., equivocations: _Optional[_Iterable[_Union[Equivocation, _Mapping]]] = ..., origin: _Optional[str] = ...) -> None: ...

class ReplicaProcess(_message.Message):
    __slots__ = ("process", "stored_slot", "leader_slot", "lag_ms", "verified", "agreed", "diverged", "compared_slot", "last_divergence", "scheduler")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    STORED_SLOT_FIELD_NUMBER: _ClassVar[int]
    LEADER_SLOT_FIELD_NUMBER: _ClassVar[int]
    LAG_MS_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    AGREED_FIELD_NUMBER: _ClassVar[int]
    DIVERGED_FIELD_NUMBER: _ClassVar[int]
    COMPARED_SLOT_FIELD_NUMBER: _ClassVar[int]
    LAST_DIVERGENCE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    process: str
    stored_slot: int
    leader_slot: int
    lag_ms: int
    verified: int
    agreed: int
    diverged: int
    compared_slot: int
    last_divergence: str
    scheduler: str
    def __init__(self, process: _Optional[str] = ..., stored_slot: _Optional[int] = ..., leader_slot: _Optional[int] = ..., lag_ms: _Optional[int] = ..., verified: _Optional[int] = ..., agreed: _Optional[int] = ..., diverged: _Optional[int] = ..., compared_slot: _Optional[int] = ..., last_divergence: _Optional[str] = ..., scheduler: _Optional[str] = ...) -> None: ...

class Equivocation(_message.Message):
    __slots__ = ("process", "slot", "first", "second")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    SECOND_FIELD_NUMBER: _ClassVar[int]
    process: str
    slot: int
    first: bytes
    second: bytes
    def __init__(self, process: _Optional[str] = ..., slot: _Optional[int] = ..., first: _Optional[bytes] = ..., second: _Optional[bytes] = ...) -> None: ...

class PutSchedulerRecordRequest(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: _types_pb2.Message
    def __init__(self, record: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class PutSchedulerRecordResponse(_message.Message):
    __slots__ = ("role", "head_slot", "orphaned", "known")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    HEAD_SLOT_FIELD_NUMBER: _ClassVar[int]
    ORPHANED_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    role: str
    head_slot: int
    orphaned: int
    known: bool
    def __init__(self, role: _Optional[str] = ..., head_slot: _Optional[int] = ..., orphaned: _Optional[int] = ..., known: _Optional[bool] = ...) -> None: ...

class GetSchedulerRecordsRequest(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: str
    def __init__(self, process: _Optional[str] = ...) -> None: ...

class GetSchedulerRecordsResponse(_message.Message):
    __slots__ = ("records", "scheduler", "redirect_url")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_types_pb2.Message]
    scheduler: str
    redirect_url: str
    def __init__(self, records: _Optional[_Iterable[_Union[_types_pb2.Message, _Mapping]]] = ..., scheduler: _Optional[str] = ..., redirect_url: _Optional[str] = ...) -> None: ...
