"""A user's sessions: listing them, and revoking one, some or all (through the revocation signal)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.accounts import AuthSession
from server import cursor as cursor_codec
from server.accounts.revocation import Revocations
from server.errors import NotFound


def _live() -> Any:
    return AuthSession.revoked_at.is_null() & (AuthSession.expires_at > datetime.now(UTC))


async def mark_revoked(where: Any, reason: str) -> list[int]:
    """Revoke the live sessions matching ``where`` in the database; return their ids (not yet announced)."""
    rows = (
        await AuthSession.update({AuthSession.revoked_at: datetime.now(UTC), AuthSession.revoked_reason: reason})
        .where(where & AuthSession.revoked_at.is_null())
        .returning(AuthSession.id)
    )
    return [int(r["id"]) for r in rows]


async def announce(revocations: Revocations, session_ids: list[int]) -> None:
    """Tell every node (after the revoking transaction committed): tokens stop, sockets close."""
    await revocations.revoked(session_ids)


async def revoke_session(revocations: Revocations, session_id: int, reason: str) -> list[int]:
    ids = await mark_revoked(AuthSession.id == session_id, reason)
    await announce(revocations, ids)
    return ids


async def revoke_user_sessions(
    revocations: Revocations, user_id: int, reason: str, *, keep: int | None = None
) -> list[int]:
    """Revoke every session of ``user_id`` (but ``keep``, the caller's own, if given)."""
    where: Any = AuthSession.user == user_id
    if keep is not None:
        where = where & (AuthSession.id != keep)
    ids = await mark_revoked(where, reason)
    await announce(revocations, ids)
    return ids


async def list_sessions(
    user_id: int, *, key: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The user's live sessions, newest first; ``(rows, next_cursor)`` (cursors signed with ``key``)."""
    after = cursor_codec.decode_id(key, "sessions", cursor or None)
    query = (
        AuthSession.select(
            AuthSession.id,
            AuthSession.created_at,
            AuthSession.last_used_at,
            AuthSession.expires_at,
            AuthSession.ip,
            AuthSession.user_agent,
        )
        .where((AuthSession.user == user_id) & _live())
        .order_by(AuthSession.id, ascending=False)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(AuthSession.id < after)
    rows = await query
    return rows[:limit], cursor_codec.next_id(key, "sessions", [r["id"] for r in rows], limit)


async def revoke_own(revocations: Revocations, user_id: int, session_id: int) -> None:
    """Revoke one of the user's live sessions; anyone else's (or a dead one) is ``NotFound``."""
    ids = await mark_revoked((AuthSession.id == session_id) & (AuthSession.user == user_id) & _live(), "revoked")
    if not ids:
        raise NotFound("no such session")
    await announce(revocations, ids)
