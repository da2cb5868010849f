"""Wire types for accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from server.accounts.revocation import effective_capabilities

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
OTP = Annotated[str, msgspec.Meta(min_length=6, max_length=32)]


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    email: Email
    password: Password


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    otp: OTP | None = None


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type


class UserPublic(msgspec.Struct):
    """A user as anyone may see them."""

    id: str
    username: str
    display_name: str
    avatar_url: str | None
    bio: str
    followers_count: int
    following_count: int
    posts_count: int
    is_private: bool
    created_at: datetime


class Me(msgspec.Struct):
    """The signed-in user, with private fields."""

    id: str
    username: str
    email: str
    email_verified: bool
    display_name: str
    avatar_url: str | None
    bio: str
    role: str
    capabilities: list[str]
    two_factor_enabled: bool
    is_private: bool
    followers_count: int
    following_count: int
    posts_count: int
    locale: str
    timezone: str
    created_at: datetime


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Password


class EmailRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A single-use token from a mail, sent in the body (never in a URL)."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Password


class Session(msgspec.Struct):
    """One signed-in device; ``current`` marks the caller's own."""

    id: str
    current: bool
    ip: str
    user_agent: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


class SessionPage(msgspec.Struct):
    items: list[Session]
    next_cursor: str | None


OTPBody = Annotated[str, msgspec.Meta(min_length=6, max_length=32)]


PasswordBody = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class PasswordRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Re-authentication for a sensitive change: the account's current password."""

    password: PasswordBody


class PasswordOTPRequest(msgspec.Struct, forbid_unknown_fields=True):
    password: PasswordBody
    otp: OTPBody


class TwoFactorSetup(msgspec.Struct):
    secret: str
    otpauth_url: str


class RecoveryCodes(msgspec.Struct):
    recovery_codes: list[str]


class OAuth2PasswordForm(msgspec.Struct):
    username: str
    password: str
    grant_type: str = "password"
    scope: str = ""
    otp: str | None = None


def user_public(row: dict[str, Any]) -> UserPublic:
    return UserPublic(
        id=str(row["id"]),
        username=row["username"],
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        bio=row["bio"],
        followers_count=row["followers_count"],
        following_count=row["following_count"],
        posts_count=row["posts_count"],
        is_private=row["is_private"],
        created_at=row["created_at"],
    )


def me_view(row: dict[str, Any]) -> Me:
    return Me(
        id=str(row["id"]),
        username=row["username"],
        email=row["email"],
        email_verified=row["email_verified_at"] is not None,
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        bio=row["bio"],
        role=row["role"],
        capabilities=list(effective_capabilities(row)),
        two_factor_enabled=row["totp_enabled"],
        is_private=row["is_private"],
        followers_count=row["followers_count"],
        following_count=row["following_count"],
        posts_count=row["posts_count"],
        locale=row["locale"],
        timezone=row["timezone"],
        created_at=row["created_at"],
    )
