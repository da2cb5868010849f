"""Stream keys: random, shown once, stored as SHA-256 (they carry 192 bits: no slow hash is needed)."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "sk_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(24)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
