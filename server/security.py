"""JWT, password hashing, TOTP and token hashing: pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from functools import lru_cache
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.settings import PasswordHashing

# Only these algorithms are accepted; "none" and key-confusion tricks are refused by construction.
ALLOWED_ALGORITHMS = ("HS256",)
ACCESS = "access"

_hasher = PasswordHasher()  # argon2id with the library's recommended (RFC 9106 low-memory) parameters


class TokenError(Exception):
    """The token is malformed, expired, tampered with, or of the wrong kind."""


@lru_cache(maxsize=4)
def _hasher_for(cost: PasswordHashing) -> PasswordHasher:
    return PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism)


def hash_password(password: str, cost: PasswordHashing | None = None) -> str:
    """An argon2id hash of ``password`` at ``cost`` (the settings' ``security.password_hashing``; default: the
    library's parameters)."""
    return (_hasher if cost is None else _hasher_for(cost)).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=4)
def dummy_password_hash(cost: PasswordHashing) -> str:
    """A valid hash at ``cost`` to verify against when the account does not exist, so timing does not reveal it:
    verifying it takes as long as verifying a real hash made at ``cost``. Made on first use, not on import (an
    argon2 hash at the default cost is ~0.15 CPU-s, paid by every process that imported this module)."""
    return _hasher_for(cost).hash(secrets.token_urlsafe(16))


def make_access_token(
    *,
    user_id: int,
    session_id: int,
    role: str,
    key: str,
    issuer: str,
    audience: str,
    ttl: int,
    algorithm: str = "HS256",
    now: float | None = None,
) -> tuple[str, int]:
    """Return ``(jwt, expires_in)`` for a short-lived access token."""
    if algorithm not in ALLOWED_ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not allowed")
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": ACCESS,
        "role": role,
        "aud": audience,
        "iss": issuer,
        "iat": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=algorithm), ttl


def decode_access_token(token: str, *, key: str, issuer: str, audience: str, leeway: int = 0) -> dict[str, Any]:
    """Verify signature, algorithm, ``aud``, ``iss``, ``exp`` and ``typ``; return the claims."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(ALLOWED_ALGORITHMS),
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["sub", "sid", "typ", "aud", "iss", "iat", "exp", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if claims.get("typ") != ACCESS:
        raise TokenError("not an access token")
    try:
        int(claims["sub"]), int(claims["sid"])
    except (TypeError, ValueError) as exc:
        raise TokenError("malformed subject") from exc
    return claims


def new_opaque_token(nbytes: int = 32) -> str:
    """A random URL-safe token for refresh, reset and verification links."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """SHA-256 hex of a high-entropy token; what the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def derive_key(secret_key: str, label: str) -> bytes:
    """A key of its own for one purpose (``label``), derived from the app secret: HMAC-SHA256(secret, label).

    A signature made with it can never double as another purpose's signature, or as a JWT."""
    return hmac.new(secret_key.encode(), label.encode(), hashlib.sha256).digest()


def constant_time_equals(a: str, b: str) -> bool:
    """Compare secrets in constant time; any text (hmac refuses ``str`` with non-ASCII characters)."""
    return hmac.compare_digest(a.encode(), b.encode())


# --- TOTP (RFC 6238) --------------------------------------------------------------------------

TOTP_INTERVAL = 30


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"social-flow", info=b"totp-secret").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plain: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(plain.encode()).decode()


def decrypt_secret(cipher: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(cipher.encode()).decode()
    except InvalidToken as exc:
        raise TokenError("cannot decrypt secret") from exc


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str, issuer: str = "Social Flow") -> str:
    return pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(name=account, issuer_name=issuer)


def match_totp(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (±1 step of drift), or ``None``.

    A step at or before ``last_step`` is refused, so a code is accepted once only.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = int((now if now is not None else time.time()) // TOTP_INTERVAL)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if constant_time_equals(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = 10) -> list[str]:
    """Human-friendly single-use codes, ``xxxxx-xxxxx`` in lower-case base32."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return [
        "".join(secrets.choice(alphabet) for _ in range(5)) + "-" + "".join(secrets.choice(alphabet) for _ in range(5))
        for _ in range(count)
    ]


def normalize_recovery_code(code: str) -> str:
    return code.strip().lower().replace(" ", "")
