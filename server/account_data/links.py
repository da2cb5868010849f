"""Signed, expiring download links for exports: no bearer token in a URL, only an HMAC over id and expiry."""

from __future__ import annotations

import hashlib
import hmac
import time

from server.security import constant_time_equals


def signature(secret_key: str, export_id: int, expires: int) -> str:
    msg = f"data-export:{export_id}:{expires}".encode()
    return hmac.new(secret_key.encode(), msg, hashlib.sha256).hexdigest()


def download_url(public_url: str, secret_key: str, export_id: int, expires: int) -> str:
    sig = signature(secret_key, export_id, expires)
    return f"{public_url.rstrip('/')}/api/v1/exports/{export_id}/download?expires={expires}&signature={sig}"


def valid(secret_key: str, export_id: int, expires: int, given: str, now: float | None = None) -> bool:
    """The signature matches and the link has not expired."""
    if expires < (now if now is not None else time.time()):
        return False
    return constant_time_equals(signature(secret_key, export_id, expires), given)
