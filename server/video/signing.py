"""HMAC-signed, expiring media tokens: one token opens every file of one subject (a video, a live stream, an image).

The token is a path segment so the relative URIs inside HLS playlists carry it to every variant
playlist and segment without rewriting them. It is a capability for media files only, never an auth
token. ``scope`` keeps the kinds apart (each has a key of its own): ``video`` for unbound tokens,
``video-viewer``, ``live-viewer`` and ``image-viewer`` for tokens bound to a viewer.

A bound token (``sign_for``: ``{expires}-{viewer}-{signature}``) names the viewer it was issued to, and
the route that serves the files asks again whether that viewer may still open them, at most
``ACCESS_RECHECK`` seconds apart per process (``AccessCache``): a URL stops working once its viewer loses
access (the subject made private or deleted, a block, an unfollow, a lapsed subscription), not only when it
expires. Users: ``server.video.controllers.media`` (video files), ``server.live.signing`` (live HLS, asked
by the media server's playback hook), ``server.social.media`` (post images).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable

from server.security import constant_time_equals, derive_key

PUBLIC = "p"
"""The token of a public or unlisted video's files: no signature needed."""

PUBLIC_MAX_AGE = 3600
"""Seconds a shared cache (a CDN) may keep a public file (a public video's segments and poster, a public post's
image) without asking again: the bound for which a CDN in front keeps serving it after it stops being public
(the origin refuses it at once; docs/operations.md, "A CDN in front"). Never "a year, immutable": the file does
not change under its name, but who may open it does."""


def _key(secret: str, scope: str) -> bytes:
    # A key of its own, derived from the app secret: a media signature can never double as anything else.
    return derive_key(secret, f"social-flow {scope} url v1")


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


ACCESS_RECHECK = 5.0
"""Seconds a file request may rely on an earlier request's access check (per subject and viewer, per process):
the bound after which a lost access (a block, a lapsed subscription, a change on another node) closes a
bound URL. Changes to the subject itself close it at once on the node that made them (``AccessCache.forget``)."""


def _viewer_mac(secret: str, subject: int | str, viewer: int, expires: int, scope: str) -> str:
    digest = hmac.new(_key(secret, scope), f"{subject}.{viewer}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def token_for(secret: str, subject: int | str, viewer: int, expires: int, *, scope: str = "video-viewer") -> str:
    """The bound token opening ``subject``'s files for ``viewer`` until ``expires`` (a Unix time)."""
    return f"{expires}-{viewer}-{_viewer_mac(secret, subject, viewer, expires, scope)}"


def sign_for(
    secret: str, subject: int | str, viewer: int, ttl: int, now: float | None = None, *, scope: str = "video-viewer"
) -> tuple[str, int]:
    """``(token, expires_at)`` opening ``subject``'s files for ``viewer`` (0: anonymous) while they may open them."""
    now = time.time() if now is None else now
    expires = int((now + ttl) // 60 + 1) * 60
    return token_for(secret, subject, viewer, expires, scope=scope), expires


def verify_for(
    secret: str, subject: int | str, token: str, now: float | None = None, *, scope: str = "video-viewer"
) -> tuple[int, int] | None:
    """``(expires, viewer)`` of a valid, unexpired ``sign_for`` token for ``subject``; ``None`` otherwise."""
    raw_exp, sep, rest = token.partition("-")
    raw_viewer, sep2, mac = rest.partition("-")
    if not (sep and sep2) or not all(x.isascii() and x.isdigit() and len(x) <= 19 for x in (raw_exp, raw_viewer)):
        return None
    expires, viewer = int(raw_exp), int(raw_viewer)
    if not constant_time_equals(mac, _viewer_mac(secret, subject, viewer, expires, scope)):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return expires, viewer


class AccessChanges:
    """Per process: when each viewer's access last changed (a block, an unfollow, a role change), or everyone's
    (an account gone private or suspended: its owner's followers and strangers alike lose its objects).

    One per process, shared by every ``AccessCache`` (videos, live streams, images): an answer cached before
    the viewer's last change is not used. The service making a change notes it here after its commit (this
    node, at once), and its re-check event (``server.realtime.recheck``, through the outbox on ``sys:recheck``)
    notes it on every node as it is delivered (``RecheckSink``), so other nodes stop within the event's
    delivery, not the cache's ``ttl``. The ``ttl`` stays the bound only while the broker is away.
    """

    def __init__(self, ttl: float = ACCESS_RECHECK) -> None:
        self.ttl = ttl
        self._at: dict[int, float] = {}
        self._all = -1.0

    def note(self, viewers: Iterable[int]) -> None:
        """These viewers' access may have changed (call after the change committed)."""
        now = time.monotonic()
        if len(self._at) > 10_000:  # only changes younger than any cache's ttl can outdate a cached answer
            self._at = {v: at for v, at in self._at.items() if now - at <= self.ttl}
        for viewer in viewers:
            self._at[viewer] = now

    def note_all(self) -> None:
        """Anyone's access may have changed (an owner's account went private or was suspended): no answer
        cached before now is used."""
        self._all = time.monotonic()

    def since(self, viewer: int) -> float:
        """``time.monotonic()`` of ``viewer``'s (or everyone's) last change noted here (-1 for none lately)."""
        return max(self._at.get(viewer, -1.0), self._all)


class AccessCache:
    """Per process: whether a viewer may still open a subject's files, as checked less than ``ttl`` s ago.

    The file routes' hot path (an HLS player fetches a segment every few seconds, a feed shows many images)
    asks the database once per subject and viewer per ``ttl`` instead of once per request.
    """

    def __init__(
        self, changes: AccessChanges | None = None, ttl: float = ACCESS_RECHECK, max_subjects: int = 50_000
    ) -> None:
        self.changes = changes or AccessChanges(ttl)
        self.ttl = ttl
        self.max_subjects = max_subjects
        # subject -> viewer -> (checked at, allowed)
        self._hits: dict[int | str, dict[int, tuple[float, bool]]] = {}

    def get(self, subject: int | str, viewer: int) -> bool | None:
        """The cached answer, or ``None`` when there is none younger than ``ttl`` and the viewer's last change."""
        hit = self._hits.get(subject, {}).get(viewer)
        if hit is None or time.monotonic() - hit[0] > self.ttl or self.changes.since(viewer) >= hit[0]:
            return None
        return hit[1]

    def put(self, subject: int | str, viewer: int, allowed: bool, asked_at: float | None = None) -> None:
        """Keep an answer; ``asked_at`` (``time.monotonic()`` before the check) keeps it older than a change
        made while the check ran."""
        if len(self._hits) > self.max_subjects:
            self._hits.clear()
        self._hits.setdefault(subject, {})[viewer] = (time.monotonic() if asked_at is None else asked_at, allowed)

    def forget(self, subject: int | str) -> None:
        """The subject changed (visibility, deletion...): ask again on its next request."""
        self._hits.pop(subject, None)
