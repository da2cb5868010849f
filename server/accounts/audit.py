"""The security audit log: who did what to which account, from where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from models.accounts import AuditEvent
from server import cursor as cursor_codec

log = structlog.get_logger("audit")

# The closed vocabulary of audited actions.
ACTIONS = frozenset(
    {
        "login",
        "login_failed",
        "logout",
        "session_revoked",
        "refresh_reuse",
        "2fa_enabled",
        "2fa_disabled",
        "reauth_failed",
        "recovery_codes_regenerated",
        "password_changed",
        "password_reset",
        "email_verified",
        "role_changed",
        "capability_enrolled",
        "user_suspended",
        "user_unsuspended",
        "account_deletion_requested",
        "account_deletion_cancelled",
        "account_deleted",
        "admin_change",
        # Moderation by staff on someone else's content (social, video).
        "post.removed",
        "comment.removed",
        "video.removed",
        "video.approved",
        "video.rejected",
        "video.hidden",
        "video.restored",
    }
)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from, as the audit log records it."""

    ip: str = ""
    user_agent: str = ""


async def record(
    action: str,
    *,
    user_id: int | None,
    client: ClientInfo | None = None,
    actor_id: int | None = None,
    **details: Any,
) -> None:
    """Append one event (inside the caller's transaction, if any) and log it (never with secrets)."""
    assert action in ACTIONS, action
    client = client or ClientInfo()
    await AuditEvent.insert(
        AuditEvent(
            user=user_id,
            actor=actor_id if actor_id is not None else user_id,
            action=action,
            ip=client.ip[:64],
            user_agent=client.user_agent[:400],
            details=details,
        )
    )
    log.info("audit", action=action, user_id=user_id, actor_id=actor_id, ip=client.ip)


async def list_events(
    *, key: str, limit: int, cursor: str | None, user_id: int | None = None, action: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; ``(rows, next_cursor)`` (cursors signed with ``key``)."""
    after = cursor_codec.decode_id(key, "audit", cursor or None)
    query = AuditEvent.select(*AuditEvent.all_columns()).order_by(AuditEvent.id, ascending=False)
    if after is not None:
        query = query.where(AuditEvent.id < after)
    if user_id is not None:
        query = query.where(AuditEvent.user == user_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    rows = await query.limit(limit + 1).output(load_json=True)
    return rows[:limit], cursor_codec.next_id(key, "audit", [r["id"] for r in rows], limit)
