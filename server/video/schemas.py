"""Wire types of the video domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.social.schemas import Price, UserSummary

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[^\s#,]+$")]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
Visibility = Literal["public", "unlisted", "followers", "subscribers", "private"]
Status = Literal["uploading", "processing", "ready", "failed"]


class VideoCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    visibility: Visibility = "public"
    description: Description = ""
    tags: Tags = msgspec.field(default_factory=list)
    price: Price | None = None
    """A paid video: viewers see a teaser until they buy it (``POST /payments/purchases {video_id}``)."""


class VideoUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """``PATCH``: only the fields sent change."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET
    price: Price | msgspec.UnsetType | None = msgspec.UNSET
    """``null`` makes the video free; earlier buyers keep access either way."""


class RenditionView(msgspec.Struct):
    height: int
    width: int
    bandwidth: int


class Video(msgspec.Struct):
    id: str
    owner: UserSummary
    title: str
    description: str
    tags: list[str]
    visibility: str
    status: str
    failure_reason: str | None
    duration: float | None
    width: int | None
    height: int | None
    thumbnail_url: str | None
    storyboard_url: str | None
    renditions: list[RenditionView]
    view_count: int
    like_count: int
    liked_by_me: bool
    moderation: str
    post_id: str | None
    created_at: datetime
    published_at: datetime | None
    upload_url: str | None = None
    """Where to send the bytes (tus 1.0.0), while the video is ``uploading`` (owner only)."""
    upload_offset: int | None = None
    price: Price | None = None
    """Set on a paid video; until the viewer buys it, it is ``locked``: no playback, thumbnail or storyboard."""
    locked: bool = False


class VideoPage(msgspec.Struct):
    items: list[Video]
    next_cursor: str | None


class Playback(msgspec.Struct):
    hls_url: str
    expires_at: datetime | None
    thumbnail_url: str | None = None
    storyboard_url: str | None = None


class ViewBeat(msgspec.Struct, forbid_unknown_fields=True):
    """A player heartbeat: ``position`` in the video and ``watched`` seconds so far in this session."""

    session_id: Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
    position: Annotated[float, msgspec.Meta(ge=0, le=1e7)]
    watched: Annotated[float, msgspec.Meta(ge=0, le=1e7)]


class Analytics(msgspec.Struct):
    views: int
    unique_viewers: int
    watch_time: float
    average_view_duration: float
    retention: list[float]
    view_count: int
    like_count: int


class ReportCreate(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class ReportView(msgspec.Struct):
    id: str
    target_type: Literal["video"]
    target_id: str
    reason: str
    status: str
    created_at: datetime


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""
