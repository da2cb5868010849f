"""Accounts: users, their sessions and refresh tokens, 2FA recovery codes, audit events."""

from enum import Enum

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.ids import new_id


class User(Table, tablename="users"):
    class Role(str, Enum):
        user = "user"
        creator = "creator"
        advertiser = "advertiser"
        moderator = "moderator"
        admin = "admin"

    id = BigInt(primary_key=True, default=new_id)
    username = Varchar(length=30, unique=True, help_text="lower-case [a-z0-9_]{3,30}")
    email = Varchar(length=320, help_text="as the user typed it")
    email_normalized = Varchar(length=320, unique=True, help_text="lower-cased, for case-blind uniqueness")
    email_verified_at = Timestamptz(null=True, default=None)
    password_hash = Text(secret=True)
    display_name = Varchar(length=64, default="")
    bio = Text(default="")
    avatar_url = Varchar(length=500, null=True, default=None)
    role = Varchar(length=16, choices=Role, default=Role.user.value)
    capabilities = Array(
        Varchar(length=16),
        default=list,
        help_text="enrolled capabilities (creator, advertiser); role keeps the first one enrolled",
    )
    is_private = Boolean(default=False)
    locale = Varchar(length=16, default="en")
    timezone = Varchar(length=64, default="UTC")
    suspended_at = Timestamptz(null=True, default=None)
    totp_secret_enc = Text(null=True, default=None, secret=True, help_text="Fernet-encrypted TOTP secret")
    totp_enabled = Boolean(default=False)
    totp_last_step = BigInt(null=True, default=None, help_text="last TOTP time step accepted (replay guard)")
    followers_count = Integer(default=0)
    following_count = Integer(default=0)
    posts_count = Integer(default=0)
    links = JSONB(default=[], help_text="profile links: [{label, url}]")
    last_active_at = Timestamptz(null=True, default=None, help_text="last authenticated request, coarse")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AuthSession(Table, tablename="auth_sessions"):
    """One login: a family of rotating refresh tokens and the access tokens minted from them."""

    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    user_agent = Varchar(length=400, default="")
    ip = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=32, null=True, default=None)


class RefreshToken(Table, tablename="refresh_tokens"):
    """Only a SHA-256 of the opaque token is stored; a used one presented again revokes its session."""

    id = BigInt(primary_key=True, default=new_id)
    session = ForeignKey(AuthSession, null=False, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class RecoveryCode(Table, tablename="recovery_codes"):
    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64, secret=True)
    used_at = Timestamptz(null=True, default=None)


class OneTimeToken(Table, tablename="one_time_tokens"):
    """Email verification and password reset tokens: hashed, single use, expiring."""

    class Purpose(str, Enum):
        verify_email = "verify_email"
        reset_password = "reset_password"  # noqa: S105 - a purpose name, not a secret

    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    purpose = Varchar(length=32, choices=Purpose)
    token_hash = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="audit_events"):
    """Security and moderation events, with where they came from."""

    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    action = Varchar(length=64, index=True)
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=400, default="")
    details = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class MailOutbox(Table, tablename="mail_outbox"):
    """Mail waiting to be sent (SMTP when configured, else files under DATA_DIR/mail)."""

    id = BigInt(primary_key=True, default=new_id)
    to_address = Varchar(length=320)
    subject = Varchar(length=300)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
