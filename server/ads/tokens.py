"""Signed, single-use ad tokens: an impression token and a click token per served ad.

A token binds one purpose (``i`` impression, ``c`` click), the campaign, the user it was served to, the
price at serving time and the time it was issued; a random nonce makes each one unique (its single use
is enforced by the hot state). The signature is an HMAC-SHA256 under a key derived from ``SECRET_KEY``,
so a token cannot be forged or altered, and a token of one purpose is never valid for the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import msgspec

IMPRESSION = "i"
CLICK = "c"
_SIG_BYTES = 16


class TokenInvalid(ValueError):
    """Forged, altered, of another purpose, or malformed."""


@dataclass(frozen=True, slots=True)
class AdToken:
    purpose: str
    campaign_id: int
    user_id: int
    price_milli: int
    issued_at: int
    nonce: str

    def expired(self, now: float, ttl: int) -> bool:
        return now >= self.issued_at + ttl or now < self.issued_at - 300  # 5 min of clock skew between nodes


def derive_key(secret_key: str) -> bytes:
    """The token key: derived so that no other signature made with ``SECRET_KEY`` is a valid token."""
    return hmac.new(secret_key.encode(), b"social-flow/ads-token/v1", hashlib.sha256).digest()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(raw: bytes) -> str:
    """URL-safe base64 without padding (``base64.urlsafe_b64encode``'s alphabet, in one C call and a translate)."""
    return binascii.b2a_base64(raw, newline=False).rstrip(b"=").translate(_URLSAFE).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def nonces(count: int) -> list[str]:
    """``count`` fresh token nonces (16 hex digits each) from one read of the OS's random source."""
    raw = secrets.token_hex(8 * count)
    return [raw[i : i + 16] for i in range(0, 16 * count, 16)]


def sign(
    key: bytes, purpose: str, campaign_id: int, user_id: int, price_milli: int, now: float, nonce: str | None = None
) -> str:
    """A token; ``nonce`` from ``nonces`` when signing several at once (a feed page's ads), else a fresh one."""
    body = msgspec.json.encode([purpose, campaign_id, user_id, price_milli, int(now), nonce or secrets.token_hex(8)])
    return f"{_b64(body)}.{_b64(_mac(key, body))}"


_KEYED: dict[bytes, tuple[Any, Any]] = {}  # key -> SHA-256 states after its inner and outer pads (RFC 2104)


def _mac(key: bytes, body: bytes) -> bytes:
    """HMAC-SHA256 of ``body`` under ``key``, truncated: ``hmac.digest``'s value from the key's padded states,
    hashed once per key instead of per token (a feed page signs eight; ``hmac.digest`` costs ~2.5x this)."""
    pads = _KEYED.get(key)
    if pads is None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        if len(_KEYED) >= 16:  # one key per process in practice
            _KEYED.clear()
        pads = _KEYED[key] = (
            hashlib.sha256(bytes(b ^ 0x36 for b in block)),
            hashlib.sha256(bytes(b ^ 0x5C for b in block)),
        )
    inner, outer = pads[0].copy(), pads[1].copy()
    inner.update(body)
    outer.update(inner.digest())
    return outer.digest()[:_SIG_BYTES]


def verify(key: bytes, token: str, purpose: str) -> AdToken:
    """The token's claims if ``key`` signed it for ``purpose``; else ``TokenInvalid``."""
    try:
        body_text, sig_text = token.split(".")
        body, sig = _unb64(body_text), _unb64(sig_text)
    except ValueError as exc:  # binascii.Error is a ValueError
        raise TokenInvalid("malformed token") from exc
    if _b64(body) != body_text or _b64(sig) != sig_text:
        raise TokenInvalid("not the canonical encoding")  # one token, one spelling
    if not hmac.compare_digest(sig, hmac.new(key, body, hashlib.sha256).digest()[:_SIG_BYTES]):
        raise TokenInvalid("bad signature")
    try:
        got, cid, uid, price, issued, nonce = msgspec.json.decode(body)
    except (ValueError, TypeError, msgspec.DecodeError) as exc:
        raise TokenInvalid("malformed token") from exc
    if got != purpose:
        raise TokenInvalid("a token of another purpose")
    return AdToken(got, int(cid), int(uid), int(price), int(issued), str(nonce))
