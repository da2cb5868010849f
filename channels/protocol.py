"""Websocket protocol v1: every frame as a msgspec Struct, one decoder and one encoder.

Frames are JSON text objects tagged by ``type``. A command may carry an integer ``id``, echoed in its reply.
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec
from msgspec import Raw, Struct

# --- client -> server ---------------------------------------------------------------------------


class Position(Struct, frozen=True):
    """A place in a channel's stream: the last offset seen, in the history ``epoch`` it belongs to."""

    offset: int
    epoch: str


class Auth(Struct, tag="auth", forbid_unknown_fields=True, omit_defaults=True):
    token: str
    id: int | None = None


class Subscribe(Struct, tag="subscribe", forbid_unknown_fields=True, omit_defaults=True):
    channel: str
    id: int | None = None
    since: Position | None = None


class Unsubscribe(Struct, tag="unsubscribe", forbid_unknown_fields=True, omit_defaults=True):
    channel: str
    id: int | None = None


class Publish(Struct, tag="publish", forbid_unknown_fields=True, omit_defaults=True):
    channel: str
    event: str
    data: Raw = msgspec.field(default_factory=lambda: Raw(b"null"))
    id: int | None = None


class Ping(Struct, tag="ping", forbid_unknown_fields=True, omit_defaults=True):
    id: int | None = None


class PresenceQuery(Struct, tag="presence", forbid_unknown_fields=True, omit_defaults=True):
    channel: str
    id: int | None = None


ClientFrame = Auth | Subscribe | Unsubscribe | Publish | Ping | PresenceQuery

# --- server -> client ---------------------------------------------------------------------------


class Event(Struct, tag="event"):
    """A publication on a channel; per channel, ``offset`` rises by one within an ``epoch``."""

    channel: str
    offset: int
    epoch: str
    event: str
    data: Raw


class Ready(Struct, tag="ready", omit_defaults=True):
    user_id: str
    id: int | None = None


class Subscribed(Struct, tag="subscribed", omit_defaults=True):
    channel: str
    offset: int
    epoch: str
    recovered: bool
    publications: list[Event]
    id: int | None = None


class Unsubscribed(Struct, tag="unsubscribed", omit_defaults=True):
    channel: str
    id: int | None = None
    reason: str | None = None
    """Set when the server ended the subscription itself (``forbidden``: access was lost)."""


class Published(Struct, tag="published", omit_defaults=True):
    """A publish was accepted; ``offset``/``epoch`` are absent when its event is queued or coalesced."""

    channel: str
    offset: int | None = None
    epoch: str | None = None
    id: int | None = None


class Pong(Struct, tag="pong", omit_defaults=True):
    id: int | None = None


class Presence(Struct, tag="presence", omit_defaults=True):
    channel: str
    count: int
    users: list[str]
    id: int | None = None


class Error(Struct, tag="error", omit_defaults=True):
    code: str
    message: str
    id: int | None = None


ServerFrame = Event | Ready | Subscribed | Unsubscribed | Published | Pong | Presence | Error

# Error codes an ``error`` frame carries.
BAD_REQUEST = "bad_request"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
RATE_LIMITED = "rate_limited"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
UNAVAILABLE = "unavailable"

# Close codes.
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_LARGE = 1009
CLOSE_UNAUTHORIZED = 4001
CLOSE_ORIGIN = 4003
CLOSE_SLOW = 4008
CLOSE_REVOKED = 4009
CLOSE_RATE_LIMITED = 4029

_decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame)
_server_decoder: msgspec.json.Decoder[ServerFrame] = msgspec.json.Decoder(ServerFrame)
_encoder = msgspec.json.Encoder()


class _AnyId(Struct):
    id: Any = None


_id_decoder = msgspec.json.Decoder(_AnyId)


class BadFrame(ValueError):
    """A frame that is not valid JSON or not a known command; ``id`` is echoed when it could be read."""

    def __init__(self, message: str, frame_id: int | None) -> None:
        super().__init__(message)
        self.id = frame_id


def decode(frame: str | bytes) -> ClientFrame:
    """Decode one client frame or raise ``BadFrame``."""
    try:
        return _decoder.decode(frame)
    except RecursionError:
        # msgspec's answer to JSON nested too deeply: bad input like any other, never a dropped socket.
        raise BadFrame("JSON is nested too deeply", None) from None
    except msgspec.DecodeError as exc:
        frame_id = None
        try:
            raw_id = _id_decoder.decode(frame).id
            frame_id = raw_id if type(raw_id) is int else None
        except (msgspec.DecodeError, RecursionError):
            pass
        raise BadFrame(str(exc), frame_id) from None


def decode_server(frame: str | bytes) -> ServerFrame:
    """Decode a server frame (clients and tests)."""
    return _server_decoder.decode(frame)


def encode(frame: ServerFrame | ClientFrame) -> str:
    """Encode any frame to the text the socket carries."""
    return _encoder.encode(frame).decode()


def encode_event(channel: str, offset: int, epoch: str, event: str, data: bytes) -> str:
    """The ``event`` frame's text for one publication."""
    return _encoder.encode(Event(channel, offset, epoch, event, Raw(data))).decode()


def event_frame(channel: str, offset: int, epoch: str, event: str, data: bytes) -> bytes:
    """The ``event`` frame for one publication as websocket bytes: built once per node, written to every socket."""
    return frame_text(_encoder.encode(Event(channel, offset, epoch, event, Raw(data))))


def encode_frame(frame: ServerFrame) -> bytes:
    """A server frame as websocket bytes (``frame_text`` of its JSON)."""
    return frame_text(_encoder.encode(frame))


def frame_text(payload: bytes) -> bytes:
    """``payload`` as one final, unmasked websocket text frame (RFC 6455 5.2).

    A server never masks, so the bytes do not depend on the socket: one frame serves every subscriber.
    """
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return _HEAD16.pack(0x81, 126, n) + payload
    return _HEAD64.pack(0x81, 127, n) + payload


def frame_payload(frame: bytes) -> bytes:
    """The payload of a frame made by ``frame_text`` (for senders that frame themselves, like ASGI servers)."""
    n = frame[1]
    return frame[2 if n < 126 else 4 if n == 126 else 10 :]


_HEAD16 = struct.Struct("!BBH")
_HEAD64 = struct.Struct("!BBQ")
