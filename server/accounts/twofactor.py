"""TOTP two-factor authentication (RFC 6238) with single-use recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.accounts import RecoveryCode, User
from server import db, security
from server.errors import Conflict, InvalidOTP, ValidationFailed
from server.settings import Settings


async def _accept_totp(settings: Settings, user: dict[str, Any], code: str) -> bool:
    """Accept a TOTP code at most once: the step is stored with a compare-and-set."""
    if not user["totp_secret_enc"]:
        return False
    secret = security.decrypt_secret(user["totp_secret_enc"], settings.security.secret_key)
    step = security.match_totp(secret, code, last_step=user["totp_last_step"])
    if step is None:
        return False
    # Conditional update: a concurrent request with the same code loses.
    last = User.totp_last_step
    updated = (
        await User.update({User.totp_last_step: step})
        .where((User.id == user["id"]) & (last.is_null() | (last < step)))
        .returning(User.id)
    )
    return bool(updated)


async def _accept_recovery_code(user_id: int, code: str) -> bool:
    digest = security.token_hash(security.normalize_recovery_code(code))
    used = (
        await RecoveryCode.update({RecoveryCode.used_at: datetime.now(UTC)})
        .where((RecoveryCode.user == user_id) & (RecoveryCode.code_hash == digest) & RecoveryCode.used_at.is_null())
        .returning(RecoveryCode.id)
    )
    return bool(used)


async def verify_login_otp(settings: Settings, user: dict[str, Any], otp: str) -> None:
    """A TOTP code or a recovery code, each accepted once; else ``InvalidOTP``."""
    otp = otp.strip()
    if otp.isdigit() and len(otp) == 6:
        if await _accept_totp(settings, user, otp):
            return
    elif await _accept_recovery_code(user["id"], otp):
        return
    raise InvalidOTP("the one-time code is wrong or was already used")


async def setup(settings: Settings, user_id: int) -> tuple[str, str]:
    """Store a new (not yet enabled) secret; return ``(secret, otpauth_url)``."""
    user = await User.select(User.username, User.totp_enabled).where(User.id == user_id).first()
    assert user is not None
    if user["totp_enabled"]:
        raise Conflict("two-factor authentication is already on; disable it first")
    secret = security.new_totp_secret()
    await User.update(
        {
            User.totp_secret_enc: security.encrypt_secret(secret, settings.security.secret_key),
            User.totp_last_step: None,
        }
    ).where(User.id == user_id)
    return secret, security.totp_uri(secret, user["username"])


async def enable(settings: Settings, user_id: int, otp: str) -> list[str]:
    """Confirm the secret with a code; turn 2FA on; return 10 fresh recovery codes (shown once)."""
    user = await User.select(*User.all_columns()).where(User.id == user_id).first()
    assert user is not None
    if user["totp_enabled"]:
        raise Conflict("two-factor authentication is already on")
    if not user["totp_secret_enc"]:
        raise ValidationFailed("call /auth/2fa/setup first")
    if not await _accept_totp(settings, user, otp):
        raise InvalidOTP("the one-time code is wrong or was already used")
    async with db.transaction():
        codes = await _replace_recovery_codes(user_id)
        await User.update({User.totp_enabled: True}).where(User.id == user_id)
    return codes


async def _replace_recovery_codes(user_id: int) -> list[str]:
    codes = security.new_recovery_codes(10)
    await RecoveryCode.delete().where(RecoveryCode.user == user_id)
    await RecoveryCode.insert(
        *[RecoveryCode(user=user_id, code_hash=security.token_hash(security.normalize_recovery_code(c))) for c in codes]
    )
    return codes


async def regenerate_recovery_codes(settings: Settings, user_id: int, otp: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working); needs 2FA on and a current code."""
    user = await User.select(*User.all_columns()).where(User.id == user_id).first()
    assert user is not None
    if not user["totp_enabled"]:
        raise Conflict("two-factor authentication is not on")
    await verify_login_otp(settings, user, otp)
    async with db.transaction():
        return await _replace_recovery_codes(user_id)


async def disable(settings: Settings, user_id: int, otp: str) -> None:
    user = await User.select(*User.all_columns()).where(User.id == user_id).first()
    assert user is not None
    if not user["totp_enabled"]:
        raise Conflict("two-factor authentication is not on")
    await verify_login_otp(settings, user, otp)
    async with db.transaction():
        await RecoveryCode.delete().where(RecoveryCode.user == user_id)
        await User.update({User.totp_enabled: False, User.totp_secret_enc: None, User.totp_last_step: None}).where(
            User.id == user_id
        )
