"""Accounts' raw SQL: the two reads the query builder cannot spell (everything else in accounts is Piccolo).

Raw, through ``server.sql``, because each joins a session to its user or its refresh token in one
statement, one with ``FOR UPDATE OF`` both rows. Values are always bind parameters ($n).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server import sql


async def live_session_principal(session_id: int, now: datetime) -> dict[str, Any] | None:
    """``user_id, role, capabilities`` behind a session that is neither revoked, expired, nor of a suspended user."""
    row = await sql.fetchrow(
        "SELECT s.user AS user_id, u.role, u.capabilities FROM auth_sessions s JOIN users u ON u.id = s.user "
        "WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.suspended_at IS NULL",
        session_id,
        now,
    )
    return dict(row) if row is not None else None


async def lock_refresh_token(token_hash: str) -> dict[str, Any] | None:
    """The refresh token with this hash and its session's state, both rows locked until commit (a rotation
    and a reuse of the same token never both pass)."""
    row = await sql.fetchrow(
        "SELECT rt.id, rt.session, rt.used_at, rt.expires_at, s.revoked_at, s.user AS user_id "
        "FROM refresh_tokens rt JOIN auth_sessions s ON s.id = rt.session "
        "WHERE rt.token_hash = $1 FOR UPDATE OF rt, s",
        token_hash,
    )
    return dict(row) if row is not None else None
