"""Password change, password reset by mail, and email verification."""

from __future__ import annotations

from datetime import UTC, datetime

from models.accounts import AuthSession, User
from server import db
from server.accounts import audit, passwords, sessions, tokens
from server.accounts.audit import ClientInfo
from server.accounts.services import AccountService, check_password_strength, normalize_email
from server.errors import Conflict, ValidationFailed
from server.mail import enqueue
from server.ratelimit import subject_key

_INVALID_LINK = "the token is invalid, expired or already used"


class CredentialService:
    """Changing and recovering what a user proves themselves with."""

    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts
        self.settings = accounts.settings
        self.limiter = accounts.limiter
        self.limits = accounts.settings.rate_limits

    async def change_password(self, user_id: int, session_id: int, current: str, new: str, client: ClientInfo) -> None:
        """Needs the current password; every other session of the user is revoked."""
        key = f"password:acct:{user_id}"
        await self.limiter.check(key, self.limits.login_account)
        user = await self.accounts.get_user(user_id)
        if not await passwords.verify_password(user["password_hash"], current):
            await self.limiter.record(key, self.limits.login_account)
            raise ValidationFailed("current_password is wrong")
        if new == current:
            raise ValidationFailed("new_password must differ from the current one")
        check_password_strength(new, username=user["username"], email=user["email"])
        new_hash = await passwords.hash_password(new, self.settings.security.password_hashing)
        async with db.transaction():
            await User.update({User.password_hash: new_hash, User.updated_at: _now()}).where(User.id == user_id)
            revoked = await sessions.mark_revoked(
                (AuthSession.user == user_id) & (AuthSession.id != session_id), "password_changed"
            )
            await audit.record("password_changed", user_id=user_id, client=client, sessions_revoked=len(revoked))
        await sessions.announce(self.accounts.revocations, revoked)
        await self.limiter.clear(key)

    async def request_password_reset(self, email: str, client: ClientInfo) -> None:
        """Mail a reset token if the address belongs to an active account. Says nothing either way."""
        await self.limiter.hit(f"reset:ip:{client.ip}", self.limits.reset_ip)
        _, normalized = normalize_email(email)
        await self.limiter.hit(f"reset:acct:{subject_key(normalized)}", self.limits.reset_account)
        user = (
            await User.select(User.id, User.username, User.email, User.suspended_at)
            .where(User.email_normalized == normalized)
            .first()
        )
        if user is None or user["suspended_at"] is not None:
            return
        async with db.transaction():
            token = await tokens.issue(
                user["id"], tokens.RESET_PASSWORD, self.settings.security.password_reset_ttl_seconds
            )
            subject, body = tokens.reset_mail(self.settings.public_url, user["username"], token)
            await enqueue(user["email"], subject, body)
        self.accounts._kick_mail()

    async def reset_password(self, token: str, new_password: str, client: ClientInfo) -> None:
        """Spend a reset token, set the password, revoke every session of the user."""
        await self.limiter.hit(f"reset:ip:{client.ip}", self.limits.reset_ip)
        user_id = await tokens.owner(token, tokens.RESET_PASSWORD)
        if user_id is None:
            raise ValidationFailed(_INVALID_LINK)
        user = await self.accounts.get_user(user_id)
        # Checked before the token is spent, so a rejected password leaves the link usable.
        check_password_strength(new_password, username=user["username"], email=user["email"])
        new_hash = await passwords.hash_password(new_password, self.settings.security.password_hashing)
        async with db.transaction():
            if await tokens.consume(token, tokens.RESET_PASSWORD) != user_id:
                raise ValidationFailed(_INVALID_LINK)
            await User.update(
                {
                    User.password_hash: new_hash,
                    # Reading the mail proved the address.
                    User.email_verified_at: user["email_verified_at"] or _now(),
                    User.updated_at: _now(),
                }
            ).where(User.id == user_id)
            revoked = await sessions.mark_revoked(AuthSession.user == user_id, "password_reset")
            await audit.record("password_reset", user_id=user_id, client=client, sessions_revoked=len(revoked))
        await sessions.announce(self.accounts.revocations, revoked)

    async def request_verification(self, user_id: int, client: ClientInfo) -> None:
        """Mail a fresh verification token to the user's address."""
        await self.limiter.hit(f"reset:ip:{client.ip}", self.limits.reset_ip)
        await self.limiter.hit(f"verify:acct:{user_id}", self.limits.reset_account)
        user = await self.accounts.get_user(user_id)
        if user["email_verified_at"] is not None:
            raise Conflict("the email address is already verified")
        async with db.transaction():
            await self.accounts._queue_verification(user)
        self.accounts._kick_mail()

    async def verify_email(self, token: str, client: ClientInfo) -> None:
        await self.limiter.hit(f"reset:ip:{client.ip}", self.limits.reset_ip)
        async with db.transaction():
            user_id = await tokens.consume(token, tokens.VERIFY_EMAIL)
            if user_id is None:
                raise ValidationFailed(_INVALID_LINK)
            await User.update({User.email_verified_at: _now()}).where(
                (User.id == user_id) & User.email_verified_at.is_null()
            )
            await audit.record("email_verified", user_id=user_id, client=client)


def _now() -> datetime:
    return datetime.now(UTC)
