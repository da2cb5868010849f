"""Opaque, signed list cursors: a tampered cursor is a 422, never a silent jump."""

from __future__ import annotations

import base64
import hashlib
import hmac

from server.errors import ValidationFailed


def encode(kind: str, value: int, key: str) -> str:
    body = f"{kind}:{value}".encode()
    mac = hmac.new(key.encode(), body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def decode(kind: str, cursor: str, key: str) -> int:
    """The position in ``cursor``; ``ValidationFailed`` when it was not made by ``encode(kind, ...)``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body, mac = raw[:-12], raw[-12:]
        expected = hmac.new(key.encode(), body, hashlib.sha256).digest()[:12]
        got_kind, _, value = body.decode().partition(":")
        if not hmac.compare_digest(mac, expected) or got_kind != kind:
            raise ValueError("bad signature")
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid") from exc
