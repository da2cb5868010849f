"""Account rules: registration, login, token rotation and session revocation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from piccolo.columns.combination import Or

from models.accounts import AuthSession, RefreshToken, User
from server import db, replicas, security
from server.accounts import audit, passwords, queries, sessions, tokens, twofactor
from server.accounts.audit import ClientInfo
from server.accounts.passwords import is_common_password
from server.accounts.revocation import Revocations
from server.errors import Conflict, Forbidden, InvalidOTP, MFARequired, NotFound, Unauthorized, ValidationFailed
from server.mail import Mailer, enqueue
from server.ratelimit import RateLimiter, subject_key
from server.settings import Settings

__all__ = ["AccountService", "ClientInfo", "Issued"]

_USERNAME = re.compile(r"^[a-z0-9_]{3,30}$")


@dataclass(frozen=True, slots=True)
class Issued:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: int


def normalize_username(raw: str) -> str:
    username = raw.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed("username must be 3-30 characters of a-z, 0-9 and _")
    return username


def normalize_email(raw: str) -> tuple[str, str]:
    """``(as typed, normalized for uniqueness)``; raises on an invalid address."""
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"email: {exc}") from exc
    return info.normalized, info.normalized.lower()


def check_password_strength(password: str, *, username: str = "", email: str = "") -> None:
    if len(password) < 10:
        raise ValidationFailed("password must be at least 10 characters")
    lowered = password.lower()
    if is_common_password(lowered) or (username and lowered == username) or (email and lowered == email.lower()):
        raise ValidationFailed("password is too common; choose another")


def _now() -> datetime:
    return datetime.now(UTC)


class AccountService:
    """Everything about who a user is and how they prove it."""

    def __init__(
        self,
        settings: Settings,
        limiter: RateLimiter | None = None,
        mailer: Mailer | None = None,
        revocations: Revocations | None = None,
        replica_set: replicas.ReplicaSet | None = None,
    ) -> None:
        self.settings = settings
        # The process's (from DI); a private in-process one for a CLI or a seed script that revokes nothing.
        self.revocations = revocations or Revocations()
        self.sec = settings.security
        self.limits = settings.rate_limits
        self.limiter = limiter or RateLimiter()
        self.mailer = mailer
        self.replica_set = replica_set

    def _kick_mail(self) -> None:
        if self.mailer is not None:
            self.mailer.kick()

    async def register(
        self, username: str, email: str, password: str, client: ClientInfo | None = None, *, verified: bool = False
    ) -> dict[str, Any]:
        """Create a user (and queue the email-verification mail unless ``verified``)."""
        client = client or ClientInfo()
        await self.limiter.hit(f"register:ip:{client.ip}", self.limits.register_ip)
        username = normalize_username(username)
        email, email_normalized = normalize_email(email)
        check_password_strength(password, username=username, email=email)
        password_hash = await passwords.hash_password(password, self.sec.password_hashing)
        async with db.transaction():
            taken = await User.exists().where(Or(User.username == username, User.email_normalized == email_normalized))
            if taken:
                raise Conflict("username or email is already registered")
            try:
                rows = await User.insert(
                    User(
                        username=username,
                        email=email,
                        email_normalized=email_normalized,
                        password_hash=password_hash,
                        display_name=username,
                        email_verified_at=_now() if verified else None,
                    )
                ).returning(*User.all_columns())
            except Exception as exc:  # a concurrent registration won the unique index
                if "unique" in str(exc).lower():
                    raise Conflict("username or email is already registered") from exc
                raise
            if not verified:
                await self._queue_verification(rows[0])
        self._kick_mail()
        return rows[0]

    async def _queue_verification(self, user: dict[str, Any]) -> None:
        token = await tokens.issue(user["id"], tokens.VERIFY_EMAIL, self.sec.verify_email_ttl_seconds)
        subject, body = tokens.verification_mail(self.settings.public_url, user["username"], token)
        await enqueue(user["email"], subject, body)

    async def find_login(self, login: str) -> dict[str, Any] | None:
        login = login.strip().lower()
        column = User.email_normalized if "@" in login else User.username
        return await User.select(*User.all_columns()).where(column == login).first()

    async def login(self, login: str, password: str, otp: str | None, client: ClientInfo) -> Issued:
        """Check password (and OTP), open a session. Limited per IP, and per account.

        The account's slot is reserved before the (slow) password hash is checked, so a concurrent burst
        cannot pass one check together; the bucket is the account itself however its login is typed
        (username or email), and a wrong OTP spends the same slot. A successful login frees the bucket.
        """
        await self.limiter.hit(f"login:ip:{client.ip}", self.limits.login_ip)
        user = await self.find_login(login)
        account_key = f"login:acct:{user['id']}" if user else f"login:acct:{subject_key(login.strip())}"
        await self.limiter.hit(account_key, self.limits.login_account)
        # Verify against a dummy hash for unknown users, so timing does not reveal who exists.
        matches = await passwords.verify_password(
            user["password_hash"] if user else security.dummy_password_hash(self.sec.password_hashing), password
        )
        if user is None or not matches:
            await audit.record("login_failed", user_id=user["id"] if user else None, client=client, reason="password")
            raise Unauthorized("invalid login or password")
        if user["suspended_at"] is not None and not await self._deletion_pending(user):
            await audit.record("login_failed", user_id=user["id"], client=client, reason="suspended")
            raise Forbidden("this account is suspended")
        if user["totp_enabled"]:
            if not otp:
                raise MFARequired("this account has two-factor authentication on; send `otp`")
            try:
                await twofactor.verify_login_otp(self.settings, user, otp)
            except InvalidOTP:
                await audit.record("login_failed", user_id=user["id"], client=client, reason="otp")
                raise
        if user["suspended_at"] is not None:  # a deletion the user asked for: logging in cancels it
            from server.account_data.deletion import cancel_on_login

            await cancel_on_login(user, client)
        issued = await self.open_session(user, client)
        await self.limiter.clear(account_key)
        await audit.record("login", user_id=user["id"], client=client, session_id=str(issued.session_id))
        return issued

    @staticmethod
    async def _deletion_pending(user: dict[str, Any]) -> bool:
        from models.account_data import AccountDeletion

        return bool(await AccountDeletion.exists().where(AccountDeletion.user == user["id"]))

    async def open_session(self, user: dict[str, Any], client: ClientInfo) -> Issued:
        expires = _now() + timedelta(seconds=self.sec.refresh_ttl_seconds)
        async with db.transaction():
            rows = await AuthSession.insert(
                AuthSession(user=user["id"], ip=client.ip[:64], user_agent=client.user_agent[:400], expires_at=expires)
            ).returning(AuthSession.id)
            session_id = rows[0]["id"]
            refresh = await self._new_refresh(session_id, expires)
        # A new sign-in (a new account too) reads its own writes: not yet a signed-in request, so said here.
        if self.replica_set is not None:
            await self.replica_set.wrote(user["id"])
        return self._issue(user, session_id, refresh)

    async def _new_refresh(self, session_id: int, expires: datetime) -> str:
        token = security.new_opaque_token()
        await RefreshToken.insert(
            RefreshToken(session=session_id, token_hash=security.token_hash(token), expires_at=expires)
        )
        return token

    def _issue(self, user: dict[str, Any], session_id: int, refresh: str) -> Issued:
        access, ttl = security.make_access_token(
            user_id=user["id"],
            session_id=session_id,
            role=user["role"],
            key=self.sec.secret_key,
            issuer=self.sec.jwt_issuer,
            audience=self.sec.jwt_audience,
            ttl=self.sec.access_ttl_seconds,
            algorithm=self.sec.jwt_algorithm,
        )
        return Issued(access_token=access, refresh_token=refresh, expires_in=ttl, session_id=session_id)

    async def refresh(self, token: str, client: ClientInfo) -> Issued:
        """Rotate: the presented token is spent and a new pair issued. A spent token revokes its session."""
        digest = security.token_hash(token)
        reused: dict[str, Any] | None = None
        async with db.transaction():
            rt = await queries.lock_refresh_token(digest)
            if rt is None:
                raise Unauthorized("invalid refresh token")
            if rt["revoked_at"] is not None:
                raise Unauthorized("this session was revoked")
            if rt["used_at"] is not None:
                reused = rt
            elif rt["expires_at"] <= _now():
                raise Unauthorized("refresh token expired")
            else:
                user = await User.select(*User.all_columns()).where(User.id == rt["user_id"]).first()
                if user is None or user["suspended_at"] is not None:
                    raise Unauthorized("this account is suspended")
                await RefreshToken.update({RefreshToken.used_at: _now()}).where(RefreshToken.id == rt["id"])
                expires = _now() + timedelta(seconds=self.sec.refresh_ttl_seconds)
                await AuthSession.update(
                    {
                        AuthSession.last_used_at: _now(),
                        AuthSession.expires_at: expires,
                        AuthSession.ip: client.ip[:64] or AuthSession.ip,
                    }
                ).where(AuthSession.id == rt["session"])
                new = await self._new_refresh(rt["session"], expires)
                return self._issue(user, rt["session"], new)
        # Reuse of a spent token: someone holds a stolen copy. Kill the whole family.
        assert reused is not None
        await sessions.revoke_session(self.revocations, reused["session"], "refresh_reuse")
        await audit.record("refresh_reuse", user_id=reused["user_id"], client=client, session_id=str(reused["session"]))
        raise Unauthorized("refresh token was already used; the session has been revoked")

    async def revoke_session(self, session_id: int, *, reason: str) -> None:
        await sessions.revoke_session(self.revocations, session_id, reason)

    async def logout(self, user_id: int, session_id: int, client: ClientInfo) -> None:
        await sessions.revoke_session(self.revocations, session_id, "logout")
        await audit.record("logout", user_id=user_id, client=client, session_id=str(session_id))

    async def revoke_own_session(self, user_id: int, session_id: int, client: ClientInfo) -> None:
        await sessions.revoke_own(self.revocations, user_id, session_id)
        await audit.record("session_revoked", user_id=user_id, client=client, session_id=str(session_id))

    async def get_user(self, user_id: int) -> dict[str, Any]:
        user = await User.select(*User.all_columns()).where(User.id == user_id).first()
        if user is None:
            raise NotFound("user not found")
        return user

    # --- two-factor authentication ----------------------------------------------------------

    async def _limit_2fa(self, user_id: int, client: ClientInfo) -> None:
        await self.limiter.hit(f"2fa:ip:{client.ip}", self.limits.twofa_ip)
        await self.limiter.hit(f"2fa:acct:{user_id}", self.limits.twofa_account)

    async def reauthenticate(self, user_id: int, password: str, client: ClientInfo) -> None:
        """Recent re-authentication for sensitive changes (2FA, recovery codes): the password, rate limited."""
        await self._limit_2fa(user_id, client)
        user = await self.get_user(user_id)
        if not await passwords.verify_password(user["password_hash"], password):
            await audit.record("reauth_failed", user_id=user_id, client=client)
            raise Unauthorized("the password is wrong")

    async def twofa_setup(self, user_id: int, password: str, client: ClientInfo) -> tuple[str, str]:
        await self.reauthenticate(user_id, password, client)
        return await twofactor.setup(self.settings, user_id)

    async def twofa_enable(self, user_id: int, password: str, otp: str, client: ClientInfo) -> list[str]:
        await self.reauthenticate(user_id, password, client)
        codes = await twofactor.enable(self.settings, user_id, otp)
        await audit.record("2fa_enabled", user_id=user_id, client=client)
        return codes

    async def twofa_disable(self, user_id: int, password: str, otp: str, client: ClientInfo) -> None:
        await self.reauthenticate(user_id, password, client)
        await twofactor.disable(self.settings, user_id, otp)
        await audit.record("2fa_disabled", user_id=user_id, client=client)

    async def regenerate_recovery_codes(self, user_id: int, password: str, otp: str, client: ClientInfo) -> list[str]:
        await self.reauthenticate(user_id, password, client)
        codes = await twofactor.regenerate_recovery_codes(self.settings, user_id, otp)
        await audit.record("recovery_codes_regenerated", user_id=user_id, client=client)
        return codes
