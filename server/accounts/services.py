"""Account rules: registration, login, token rotation and session revocation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from piccolo.columns.combination import Or

from models.accounts import AuthSession, RefreshToken, User
from server import security
from server.accounts.passwords import is_common_password
from server.errors import Conflict, MFARequired, NotFound, Unauthorized, ValidationFailed
from server.settings import Settings

_USERNAME = re.compile(r"^[a-z0-9_]{3,30}$")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str = ""
    user_agent: str = ""


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

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sec = settings.security

    async def register(self, username: str, email: str, password: str) -> dict[str, Any]:
        username = normalize_username(username)
        email, email_normalized = normalize_email(email)
        check_password_strength(password, username=username, email=email)
        password_hash = security.hash_password(password)
        async with User._meta.db.transaction():
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
                    )
                ).returning(*User.all_columns())
            except Exception as exc:  # a concurrent registration won the unique index
                if "unique" in str(exc).lower():
                    raise Conflict("username or email is already registered") from exc
                raise
        return rows[0]

    async def find_login(self, login: str) -> dict[str, Any] | None:
        login = login.strip().lower()
        column = User.email_normalized if "@" in login else User.username
        return await User.select(*User.all_columns()).where(column == login).first()

    async def authenticate(self, login: str, password: str) -> dict[str, Any]:
        """The user whose password matches, or ``Unauthorized`` (same answer for unknown users)."""
        user = await self.find_login(login)
        if user is None:
            security.verify_password(security.DUMMY_PASSWORD_HASH, password)
            raise Unauthorized("invalid login or password")
        if not security.verify_password(user["password_hash"], password):
            raise Unauthorized("invalid login or password")
        if user["suspended_at"] is not None:
            raise Unauthorized("this account is suspended")
        return user

    async def login(self, login: str, password: str, otp: str | None, client: ClientInfo) -> Issued:
        user = await self.authenticate(login, password)
        if user["totp_enabled"]:
            if not otp:
                raise MFARequired("this account has two-factor authentication on; send `otp`")
            from server.accounts.twofactor import verify_login_otp

            await verify_login_otp(self.settings, user, otp)
        return await self.open_session(user, client)

    async def open_session(self, user: dict[str, Any], client: ClientInfo) -> Issued:
        expires = _now() + timedelta(seconds=self.sec.refresh_ttl_seconds)
        async with AuthSession._meta.db.transaction():
            rows = await AuthSession.insert(
                AuthSession(user=user["id"], ip=client.ip[:64], user_agent=client.user_agent[:400], expires_at=expires)
            ).returning(AuthSession.id)
            session_id = rows[0]["id"]
            refresh = await self._new_refresh(session_id, expires)
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
        revoke_family: int | None = None
        async with RefreshToken._meta.db.transaction():
            row = await RefreshToken.raw(
                "SELECT rt.id, rt.session, rt.used_at, rt.expires_at, s.revoked_at, s.user AS user_id "
                "FROM refresh_tokens rt JOIN auth_sessions s ON s.id = rt.session "
                "WHERE rt.token_hash = {} FOR UPDATE OF rt, s",
                digest,
            )
            if not row:
                raise Unauthorized("invalid refresh token")
            rt = row[0]
            if rt["revoked_at"] is not None:
                raise Unauthorized("this session was revoked")
            if rt["used_at"] is not None:
                revoke_family = rt["session"]
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
        await self.revoke_session(revoke_family, reason="refresh_reuse")
        raise Unauthorized("refresh token was already used; the session has been revoked")

    async def revoke_session(self, session_id: int, *, reason: str) -> None:
        from server.accounts.revocation import announce_revoked

        await AuthSession.update({AuthSession.revoked_at: _now(), AuthSession.revoked_reason: reason}).where(
            (AuthSession.id == session_id) & AuthSession.revoked_at.is_null()
        )
        await announce_revoked([session_id])

    async def get_user(self, user_id: int) -> dict[str, Any]:
        user = await User.select(*User.all_columns()).where(User.id == user_id).first()
        if user is None:
            raise NotFound("user not found")
        return user
