"""Rows -> wire objects for streams and chat."""

from __future__ import annotations

from typing import Any

from server.live import schemas
from server.params import as_id
from server.settings import LiveSettings
from server.social.services.visibility import user_summary
from server.video import signing


def playback(settings: LiveSettings, secret: str, stream_id: int) -> schemas.Playback:
    """The HLS playlist nginx-rtmp writes under the stream id (the publish was redirected to it), behind
    a signed, expiring token in the path: nginx asks the app (``POST /live/hooks/playback``) before serving
    the playlist or a segment, and the playlist's relative segment names carry the token along."""
    token, _ = signing.sign(secret, stream_id, settings.playback_ttl, scope="live")
    return schemas.Playback(hls_url=f"{settings.hls_url}/{stream_id}/{token}/index.m3u8")


def playback_allowed(secret: str, stream_id: str, token: str) -> bool:
    """Whether ``token`` is a valid, unexpired playback token for the stream ``stream_id``."""
    sid = as_id(stream_id)
    if sid is None or len(token) > 64:
        return False
    return signing.verify(secret, sid, token, scope="live") is not None


def stream(row: Any, settings: LiveSettings, secret: str, viewer: int, key: str | None = None) -> schemas.Stream:
    """The stream as ``viewer`` sees it; ``key`` is only given right after it was made."""
    live = row["status"] == "live"
    ingest = schemas.Ingest(settings.rtmp_url, key) if row["owner"] == viewer else None
    return schemas.Stream(
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
        playback=playback(settings, secret, row["id"]) if live else None,
        replay_video_id=str(row["replay_video"]) if row["replay_video"] else None,
        created_at=row["created_at"],
        ingest=ingest,
    )


def chat_user(row: Any) -> schemas.ChatUser | None:
    if row["u_id"] is None:
        return None
    return schemas.ChatUser(
        id=str(row["u_id"]),
        username=row["u_username"],
        display_name=row["u_display_name"],
        avatar_url=row["u_avatar_url"],
    )


def chat_message(row: Any) -> schemas.ChatMessage:
    tip = row["kind"] == "tip"
    return schemas.ChatMessage(
        id=str(row["id"]),
        kind=row["kind"],
        user=chat_user(row),
        text=row["text"],
        created_at=row["created_at"],
        amount=row["amount"] if tip else None,
        currency=row["currency"] if tip else None,
    )
