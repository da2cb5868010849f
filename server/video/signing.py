"""HMAC-signed, expiring playback tokens: one token opens every file of one video (or live stream), until it expires.

The token is a path segment so the relative URIs inside HLS playlists carry it to every variant
playlist and segment without rewriting them. It is a capability for media files only, never an auth
token. ``scope`` keeps the kinds apart (``live`` for a live stream's HLS, checked by the media server
through ``POST /live/hooks/playback``; ``video`` for unbound tokens): each has a key of its own.

A video's token is bound to the viewer it was issued to (``sign_for``: ``{expires}-{viewer}-{signature}``):
the media route re-checks that viewer's access on every request (``server.video.controllers.media``),
so a URL stops working once its viewer loses access (the video made private or deleted, a block, a
lapsed subscription), not only when it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from server.security import constant_time_equals

PUBLIC = "p"
"""The token of a public or unlisted video's files: no signature needed."""


def _key(secret: str, scope: str) -> bytes:
    # A key of its own, derived from the app secret: a media signature can never double as anything else.
    return hmac.new(secret.encode(), f"social-flow {scope} url v1".encode(), hashlib.sha256).digest()


def _mac(secret: str, video_id: int, expires: int, scope: str) -> str:
    digest = hmac.new(_key(secret, scope), f"{video_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign(secret: str, video_id: int, ttl: int, now: float | None = None, *, scope: str = "video") -> tuple[str, int]:
    """``(token, expires_at)`` for ``video_id``; ``expires_at`` is rounded up to the minute (cacheable URLs)."""
    now = time.time() if now is None else now
    expires = int((now + ttl) // 60 + 1) * 60
    return f"{expires}-{_mac(secret, video_id, expires, scope)}", expires


def verify(secret: str, video_id: int, token: str, now: float | None = None, *, scope: str = "video") -> int | None:
    """The expiry of a valid, unexpired token for ``video_id``; ``None`` when tampered or expired."""
    raw_exp, sep, mac = token.partition("-")
    if not sep or not (raw_exp.isascii() and raw_exp.isdigit()) or len(raw_exp) > 12:
        return None
    expires = int(raw_exp)
    if not constant_time_equals(mac, _mac(secret, video_id, expires, scope)):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return expires


def _viewer_mac(secret: str, video_id: int, viewer: int, expires: int) -> str:
    digest = hmac.new(_key(secret, "video-viewer"), f"{video_id}.{viewer}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign_for(secret: str, video_id: int, viewer: int, ttl: int, now: float | None = None) -> tuple[str, int]:
    """``(token, expires_at)`` opening ``video_id``'s files for ``viewer`` (0: anonymous) while they may watch it."""
    now = time.time() if now is None else now
    expires = int((now + ttl) // 60 + 1) * 60
    return f"{expires}-{viewer}-{_viewer_mac(secret, video_id, viewer, expires)}", expires


def verify_for(secret: str, video_id: int, token: str, now: float | None = None) -> tuple[int, int] | None:
    """``(expires, viewer)`` of a valid, unexpired ``sign_for`` token for ``video_id``; ``None`` otherwise."""
    raw_exp, sep, rest = token.partition("-")
    raw_viewer, sep2, mac = rest.partition("-")
    if not (sep and sep2) or not all(x.isascii() and x.isdigit() and len(x) <= 19 for x in (raw_exp, raw_viewer)):
        return None
    expires, viewer = int(raw_exp), int(raw_viewer)
    if not constant_time_equals(mac, _viewer_mac(secret, video_id, viewer, expires)):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return expires, viewer
