"""Cursor pagination: ``?limit=`` 1..100 (default 20) and an opaque ``?cursor=``.

A cursor is the last item's id, base64url-encoded; anything that does not decode to one is a 422.
"""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import msgspec

from server.errors import ValidationFailed

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list: ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id to continue after, or ``None`` for the first page; ``ValidationFailed`` if tampered."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "id" or not value.isdigit():
            raise ValueError(raw)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is invalid") from exc


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page that fetched ``limit + 1`` rows (``ids`` trimmed to ``limit``)."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None
