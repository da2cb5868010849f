"""Admin rules: change roles, suspend and unsuspend users. Callers are admins (the guard checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.accounts import AuthSession, User
from server import db
from server.accounts import audit, sessions
from server.accounts.audit import ClientInfo
from server.accounts.revocation import Revocations
from server.deps import CurrentUser
from server.errors import Conflict, NotFound
from server.realtime import kinds, recheck


async def get_user(user_id: int) -> dict[str, Any]:
    row = await User.select(*User.all_columns()).where(User.id == user_id).first()
    if row is None:
        raise NotFound("user not found")
    return row


async def set_role(
    revocations: Revocations, actor: CurrentUser, user_id: int, role: str, client: ClientInfo
) -> dict[str, Any]:
    """Give ``user_id`` a new role; it applies to their live sessions at once."""
    if user_id == actor.id:
        raise Conflict("admins cannot change their own role")  # so the last admin cannot lock everyone out
    async with db.transaction():
        user = await get_user(user_id)
        if user["role"] != role:
            await User.update({User.role: role, User.updated_at: datetime.now(UTC)}).where(User.id == user_id)
            await audit.record(
                "role_changed", user_id=user_id, actor_id=actor.id, client=client, old=user["role"], new=role
            )
            await recheck.request(users=[user_id])
    await revocations.users_changed([user_id])
    return await get_user(user_id)


async def suspend(
    revocations: Revocations, actor: CurrentUser, user_id: int, reason: str, client: ClientInfo
) -> dict[str, Any]:
    """Suspend: no more logins or refreshes, and every session dies now (sockets close with 4009)."""
    if user_id == actor.id:
        raise Conflict("admins cannot suspend themselves")
    async with db.transaction():
        user = await get_user(user_id)
        revoked: list[int] = []
        if user["suspended_at"] is None:
            await User.update({User.suspended_at: datetime.now(UTC)}).where(User.id == user_id)
            revoked = await sessions.mark_revoked(AuthSession.user == user_id, "suspended")
            await audit.record(
                "user_suspended",
                user_id=user_id,
                actor_id=actor.id,
                client=client,
                reason=reason[:500],
                sessions_revoked=len(revoked),
            )
            # Their posts and streams are no longer readable: whoever watches one loses it now.
            await recheck.request(users=[user_id], kinds=[kinds.POST, kinds.LIVE])
    await sessions.announce(revocations, revoked)
    return await get_user(user_id)


async def unsuspend(actor: CurrentUser, user_id: int, client: ClientInfo) -> dict[str, Any]:
    async with db.transaction():
        user = await get_user(user_id)
        if user["suspended_at"] is not None:
            await User.update({User.suspended_at: None}).where(User.id == user_id)
            await audit.record("user_unsuspended", user_id=user_id, actor_id=actor.id, client=client)
    return await get_user(user_id)
