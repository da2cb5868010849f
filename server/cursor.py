"""Opaque, HMAC-signed list cursors: a tampered or foreign cursor is a 422, never a 500.

The one cursor codec of the app: ``encode(key, kind, values)`` / ``decode(key, kind, cursor)``. ``kind``
names the list (a cursor of one list is refused by another), ``key`` is the server's secret.
"""

from __future__ import annotations

import base64
import hmac
from typing import Any

import msgspec

from server.errors import ValidationFailed


def _sign(key: str, body: bytes) -> bytes:
    # ``hmac.digest``: the same HMAC-SHA256 in one C call (``hmac.new`` builds two Python hash objects per call,
    # and every feed page signs its next cursor).
    return hmac.digest(key.encode(), body, "sha256")[:12]


def encode(key: str, kind: str, values: list[Any]) -> str:
    """A cursor for list ``kind`` resuming after ``values``."""
    body = msgspec.json.encode([kind, values])
    raw = _sign(key, body) + body
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(key: str, kind: str, cursor: str | None) -> list[Any] | None:
    """The values of a cursor made by ``encode`` for ``kind``; ``None`` for no cursor."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sig, body = raw[:12], raw[12:]
        if len(sig) != 12 or not hmac.compare_digest(sig, _sign(key, body)):
            raise ValueError("bad signature")
        got_kind, values = msgspec.json.decode(body)
        if got_kind != kind or not isinstance(values, list):
            raise ValueError("cursor of another list")
    except (ValueError, TypeError, msgspec.DecodeError) as exc:
        raise ValidationFailed("cursor is not valid for this list") from exc
    return values


def decode_id(key: str, kind: str, cursor: str | None) -> int | None:
    """The id a keyset cursor made by ``encode(key, kind, [id])`` resumes after; ``None`` for no cursor."""
    values = decode(key, kind, cursor)
    if values is None:
        return None
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError) as exc:
        raise ValidationFailed("cursor is not valid for this list") from exc


def next_id(key: str, kind: str, ids: list[int], limit: int) -> str | None:
    """The cursor after a keyset page that fetched ``limit + 1`` rows (``ids``, in page order) to see whether
    more follow: it resumes after the page's last id; ``None`` on the last page. ``decode_id`` reads it."""
    return encode(key, kind, [ids[limit - 1]]) if len(ids) > limit else None
