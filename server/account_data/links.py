"""Signed, expiring export download links, bound to the session that was given them and the account's password.

The URL carries no bearer token: ``?expires=…&session=…&signature=…``, an HMAC under a key of its own
(``derive_key``: it can never stand for a JWT, a media URL or anything else) over the export, the expiry,
the session the link was issued to and the account's current password hash. The download route honours it
only while that session is alive and the account is not suspended, so a logout (of that session or of all),
a password change or reset, or a deletion request voids the link at once, not after its 24 h.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from server.security import constant_time_equals, derive_key

LABEL = "social-flow data-export url v2"


def signature(secret_key: str, export_id: int, expires: int, session_id: int, password_hash: str) -> str:
    msg = f"{export_id}.{expires}.{session_id}.{password_hash}".encode()
    return hmac.new(derive_key(secret_key, LABEL), msg, hashlib.sha256).hexdigest()


def well_formed(given: str) -> bool:
    """``given`` has the shape of a signature we make (64 lowercase hex digits), checked without the database."""
    return len(given) == 64 and all(c in "0123456789abcdef" for c in given)


def download_url(
    public_url: str, secret_key: str, export_id: int, expires: int, session_id: int, password_hash: str
) -> str:
    """The link to ``export_id``'s zip for the holder of ``session_id`` while the password stays ``password_hash``."""
    query = urlencode(
        {
            "expires": expires,
            "session": session_id,
            "signature": signature(secret_key, export_id, expires, session_id, password_hash),
        }
    )
    return f"{public_url.rstrip('/')}/api/v1/exports/{export_id}/download?{query}"


def valid(
    secret_key: str,
    export_id: int,
    expires: int,
    session_id: int,
    password_hash: str,
    given: str,
    now: float | None = None,
) -> bool:
    """The signature matches the export, expiry, session and current password hash, and has not expired.

    Whether the session is still alive is the caller's check (it needs the database)."""
    if expires < (now if now is not None else time.time()):
        return False
    return constant_time_equals(signature(secret_key, export_id, expires, session_id, password_hash), given)
