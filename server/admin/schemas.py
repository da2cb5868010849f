"""Wire types for administration."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Role = Literal["user", "creator", "advertiser", "moderator", "admin"]


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class Suspension(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = msgspec.field(default="")


class AdminUser(msgspec.Struct):
    """A user as an admin sees them."""

    id: str
    username: str
    email: str
    email_verified: bool
    role: str
    suspended: bool
    suspended_at: datetime | None
    two_factor_enabled: bool
    created_at: datetime


class AuditEntry(msgspec.Struct):
    id: str
    action: str
    user_id: str | None
    actor_id: str | None
    ip: str
    user_agent: str
    details: dict[str, Any]
    created_at: datetime


class AuditPage(msgspec.Struct):
    items: list[AuditEntry]
    next_cursor: str | None
