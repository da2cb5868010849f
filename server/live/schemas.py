"""Wire types of live streams, their chat and moderation, and the room's client publishes; rows -> wire objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from server.live import signing
from server.settings import LiveSettings
from server.social.schemas import UserSummary
from server.social.services.visibility import user_summary

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Visibility = Literal["public", "followers", "private"]
Status = Literal["idle", "live", "ended"]
SlowMode = Annotated[int, msgspec.Meta(ge=0, le=3600)]
MAX_CHAT = 500
REACTION_KINDS = ("like", "love", "laugh", "wow", "clap", "fire")
ReactionKind = Literal["like", "love", "laugh", "wow", "clap", "fire"]


class StreamCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    visibility: Visibility = "public"


class StreamUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """``PATCH /live/{id}``: only the fields sent change; ``slow_mode_seconds: 0`` turns slow mode off."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    slow_mode_seconds: SlowMode | msgspec.UnsetType = msgspec.UNSET


class Ingest(msgspec.Struct):
    """Where the owner's encoder publishes; the key is shown when made (create, rotate) and never again."""

    rtmp_url: str
    stream_key: str | None


class Playback(msgspec.Struct):
    hls_url: str


class Stream(msgspec.Struct, omit_defaults=True):
    id: str
    owner: UserSummary
    title: str
    visibility: Visibility
    status: Status
    viewer_count: int
    peak_viewers: int
    slow_mode_seconds: int
    started_at: datetime | None
    ended_at: datetime | None
    playback: Playback | None
    replay_video_id: str | None
    created_at: datetime
    ingest: Ingest | None = None
    """Only in the owner's answers."""


class StreamPage(msgspec.Struct):
    items: list[Stream]
    next_cursor: str | None


class BanCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Without ``seconds`` the ban lasts until lifted; with it, it is a time-out."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
    seconds: Annotated[int, msgspec.Meta(ge=1, le=30 * 24 * 3600)] | None = None


class ChatUser(msgspec.Struct):
    """The author of a chat line, as the room shows it (small: it goes to every viewer)."""

    id: str
    username: str
    display_name: str
    avatar_url: str | None


class Ban(msgspec.Struct):
    user: ChatUser
    until: datetime | None
    created_at: datetime


class ChatMessage(msgspec.Struct, omit_defaults=True):
    """A ``chat.message`` event and a history item; tips carry ``amount`` and ``currency`` and ``kind: tip``."""

    id: str
    kind: Literal["chat", "tip"]
    user: ChatUser | None
    text: str
    created_at: datetime
    amount: int | None = None
    currency: str | None = None


class ChatPage(msgspec.Struct):
    """Newest first; ``next_cursor`` pages to older messages."""

    items: list[ChatMessage]
    next_cursor: str | None


class Heartbeat(msgspec.Struct, forbid_unknown_fields=True):
    """An HLS player's "still watching", every ~10 s; ``session_id`` is the player's random id."""

    session_id: Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ChatIn(msgspec.Struct, forbid_unknown_fields=True):
    """A client's ``publish`` of ``chat.message``."""

    text: str


class ReactionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A client's ``publish`` of ``reaction``."""

    kind: str


class Deleted(msgspec.Struct):
    """``chat.deleted``."""

    id: str


class Reactions(msgspec.Struct):
    """``reactions``: how many of each kind arrived since the previous ``reactions`` event."""

    counts: dict[str, int]


class Viewers(msgspec.Struct):
    count: int


class Tip(msgspec.Struct):
    """``tip``: a tip Stripe confirmed, shown in the room."""

    id: str
    amount: int
    currency: str
    message: str
    created_at: datetime
    from_: ChatUser | None = msgspec.field(name="from")


class StreamEvent(msgspec.Struct):
    """``live.started`` / ``live.ended``."""

    id: str
    status: Status
    started_at: datetime | None
    ended_at: datetime | None
    playback: Playback | None


def playback(settings: LiveSettings, secret: str, stream_id: int, viewer: int) -> Playback:
    """The stream's ``playback`` for ``viewer``: an HLS URL bound to them (``signing.playback_url``)."""
    return Playback(hls_url=signing.playback_url(settings, secret, stream_id, viewer))


def stream(row: Any, settings: LiveSettings, secret: str, viewer: int, key: str | None = None) -> Stream:
    """The stream as ``viewer`` sees it; ``key`` is only given right after it was made."""
    live = row["status"] == "live"
    ingest = Ingest(settings.rtmp_url, key) if row["owner"] == viewer else None
    return Stream(
        id=str(row["id"]),
        owner=user_summary(row, "o_"),
        title=row["title"],
        visibility=row["visibility"],
        status=row["status"],
        viewer_count=row["current_viewers"] if live else 0,
        peak_viewers=row["peak_viewers"],
        slow_mode_seconds=row["slow_mode_seconds"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        playback=playback(settings, secret, row["id"], viewer) if live else None,
        replay_video_id=str(row["replay_video"]) if row["replay_video"] else None,
        created_at=row["created_at"],
        ingest=ingest,
    )


def chat_user(row: Any) -> ChatUser | None:
    if row["u_id"] is None:
        return None
    return ChatUser(
        id=str(row["u_id"]),
        username=row["u_username"],
        display_name=row["u_display_name"],
        avatar_url=row["u_avatar_url"],
    )


def chat_message(row: Any) -> ChatMessage:
    tip = row["kind"] == "tip"
    return ChatMessage(
        id=str(row["id"]),
        kind=row["kind"],
        user=chat_user(row),
        text=row["text"],
        created_at=row["created_at"],
        amount=row["amount"] if tip else None,
        currency=row["currency"] if tip else None,
    )
