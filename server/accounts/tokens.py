"""Single-use, expiring tokens for email verification and password reset; only hashes are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.accounts import OneTimeToken
from server import security

VERIFY_EMAIL = OneTimeToken.Purpose.verify_email.value
RESET_PASSWORD = OneTimeToken.Purpose.reset_password.value


async def issue(user_id: int, purpose: str, ttl_seconds: int) -> str:
    """A new token for ``purpose``; earlier unused ones of the same purpose stop working."""
    await spend_all(user_id, purpose)
    token = security.new_opaque_token()
    await OneTimeToken.insert(
        OneTimeToken(
            user=user_id,
            purpose=purpose,
            token_hash=security.token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl_seconds),
        )
    )
    return token


async def owner(token: str, purpose: str) -> int | None:
    """The user a live (unused, unexpired) token belongs to, without spending it."""
    row = (
        await OneTimeToken.select(OneTimeToken.user)
        .where(
            (OneTimeToken.token_hash == security.token_hash(token))
            & (OneTimeToken.purpose == purpose)
            & OneTimeToken.used_at.is_null()
            & (OneTimeToken.expires_at > datetime.now(UTC))
        )
        .first()
    )
    return None if row is None else int(row["user"])


async def consume(token: str, purpose: str) -> int | None:
    """Spend a live token and return its user; ``None`` if it is unknown, used or expired.

    One conditional UPDATE, so of two concurrent uses exactly one wins.
    """
    rows = (
        await OneTimeToken.update({OneTimeToken.used_at: datetime.now(UTC)})
        .where(
            (OneTimeToken.token_hash == security.token_hash(token))
            & (OneTimeToken.purpose == purpose)
            & OneTimeToken.used_at.is_null()
            & (OneTimeToken.expires_at > datetime.now(UTC))
        )
        .returning(OneTimeToken.user)
    )
    return int(rows[0]["user"]) if rows else None


async def spend_all(user_id: int, purpose: str) -> None:
    await OneTimeToken.update({OneTimeToken.used_at: datetime.now(UTC)}).where(
        (OneTimeToken.user == user_id) & (OneTimeToken.purpose == purpose) & OneTimeToken.used_at.is_null()
    )


def verification_mail(public_url: str, username: str, token: str) -> tuple[str, str]:
    """``(subject, body)`` of the email-verification mail."""
    body = (
        f"Hello {username},\n\n"
        "Confirm this address for your Social Flow account by opening\n\n"
        f"  {public_url}/verify-email#token={token}\n\n"
        'or by sending this code to POST /api/v1/auth/verify-email as {"token": "..."}:\n\n'
        f"  {token}\n\n"
        "It works once, for 24 hours. If you did not sign up, ignore this mail.\n"
    )
    return "Confirm your email for Social Flow", body


def reset_mail(public_url: str, username: str, token: str) -> tuple[str, str]:
    """``(subject, body)`` of the password-reset mail."""
    body = (
        f"Hello {username},\n\n"
        "Someone asked to reset the password of your Social Flow account. To choose a new one, open\n\n"
        f"  {public_url}/reset-password#token={token}\n\n"
        "or send this code with your new password to POST /api/v1/auth/password-reset:\n\n"
        f"  {token}\n\n"
        "It works once, for one hour, and signs you out everywhere. If it was not you, ignore this mail.\n"
    )
    return "Reset your Social Flow password", body
