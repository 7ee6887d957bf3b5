from aonode.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Peer(_message.Message):
    __slots__ = ("url", "origin", "address", "last_seen_ms", "last_error", "added_ms")
    URL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    ADDED_MS_FIELD_NUMBER: _ClassVar[int]
    url: str
    origin: str
    address: str
    last_seen_ms: int
    last_error: str
    added_ms: int
    def __init__(self, url: _Optional[str] = ..., origin: _Optional[str] = ..., address: _Optional[str] = ..., last_seen_ms: _Optional[int] = ..., last_error: _Optional[str] = ..., added_ms: _Optional[int] = ...) -> None: ...

class TrustedRelay(_message.Message):
    __slots__ = ("address", "origin", "added_ms")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ADDED_MS_FIELD_NUMBER: _ClassVar[int]
    address: str
    origin: str
    added_ms: int
    def __init__(self, address: _Optional[str] = ..., origin: _Optional[str] = ..., added_ms: _Optional[int] = ...) -> None: ...

class AddPeerRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class AddPeerResponse(_message.Message):
    __slots__ = ("peer", "learned")
    PEER_FIELD_NUMBER: _ClassVar[int]
    LEARNED_FIELD_NUMBER: _ClassVar[int]
    peer: Peer
    learned: int
    def __init__(self, peer: _Optional[_Union[Peer, _Mapping]] = ..., learned: _Optional[int] = ...) -> None: ...

class RemovePeerRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class RemovePeerResponse(_message.Message):
    __slots__ = ("peer",)
    PEER_FIELD_NUMBER: _ClassVar[int]
    peer: Peer
    def __init__(self, peer: _Optional[_Union[Peer, _Mapping]] = ...) -> None: ...

class TrustRelayRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class TrustRelayResponse(_message.Message):
    __slots__ = ("relay",)
    RELAY_FIELD_NUMBER: _ClassVar[int]
    relay: TrustedRelay
    def __init__(self, relay: _Optional[_Union[TrustedRelay, _Mapping]] = ...) -> None: ...

class UntrustRelayRequest(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: _types_pb2.Message
    def __init__(self, authorization: _Optional[_Union[_types_pb2.Message, _Mapping]] = ...) -> None: ...

class UntrustRelayResponse(_message.Message):
    __slots__ = ("relay",)
    RELAY_FIELD_NUMBER: _ClassVar[int]
    relay: TrustedRelay
    def __init__(self, relay: _Optional[_Union[TrustedRelay, _Mapping]] = ...) -> None: ...

class ListPeersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPeersResponse(_message.Message):
    __slots__ = ("peers",)
    PEERS_FIELD_NUMBER: _ClassVar[int]
    peers: _containers.RepeatedCompositeFieldContainer[Peer]
    def __init__(self, peers: _Optional[_Iterable[_Union[Peer, _Mapping]]] = ...) -> None: ...

class ListRelaysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRelaysResponse(_message.Message):
    __slots__ = ("relays",)
    RELAYS_FIELD_NUMBER: _ClassVar[int]
    relays: _containers.RepeatedCompositeFieldContainer[TrustedRelay]
    def __init__(self, relays: _Optional[_Iterable[_Union[TrustedRelay, _Mapping]]] = ...) -> None: ...

class ListLocationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "valid_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VALID_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    valid_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., valid_only: _Optional[bool] = ...) -> None: ...

class ListLocationsResponse(_message.Message):
    __slots__ = ("locations", "next_page_token", "now_ms")
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NOW_MS_FIELD_NUMBER: _ClassVar[int]
    locations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Location]
    next_page_token: str
    now_ms: int
    def __init__(self, locations: _Optional[_Iterable[_Union[_types_pb2.Location, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., now_ms: _Optional[int] = ...) -> None: ...

class ExchangeLocationsRequest(_message.Message):
    __slots__ = ("locations",)
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    locations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Location]
    def __init__(self, locations: _Optional[_Iterable[_Union[_types_pb2.Location, _Mapping]]] = ...) -> None: ...

class ExchangeLocationsResponse(_message.Message):
    __slots__ = ("locations", "accepted")
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    locations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Location]
    accepted: int
    def __init__(self, locations: _Optional[_Iterable[_Union[_types_pb2.Location, _Mapping]]] = ..., accepted: _Optional[int] = ...) -> None: ...

class LookupProcessRequest(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: str
    def __init__(self, process: _Optional[str] = ...) -> None: ...

class LookupProcessResponse(_message.Message):
    __slots__ = ("process_message", "assignment", "location")
    PROCESS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    process_message: _types_pb2.Message
    assignment: _types_pb2.Assignment
    location: _types_pb2.Location
    def __init__(self, process_message: _Optional[_Union[_types_pb2.Message, _Mapping]] = ..., assignment: _Optional[_Union[_types_pb2.Assignment, _Mapping]] = ..., location: _Optional[_Union[_types_pb2.Location, _Mapping]] = ...) -> None: ...
