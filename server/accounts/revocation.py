"""Session revocation: one cheap per-request check, and one "session revoked" signal.

The signal is what the realtime layer subscribes to (to close that session's sockets with 4009):
``on_revoked(callback)`` registers a coroutine that receives revoked session ids on this process,
whichever process revoked them (through Redis pub/sub when ``REDIS_URL`` is set).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from models.accounts import AuthSession

RevokedCallback = Callable[[list[int]], Awaitable[None]]
_callbacks: list[RevokedCallback] = []


def on_revoked(callback: RevokedCallback) -> None:
    """Call ``callback(session_ids)`` whenever sessions are revoked (on any node)."""
    _callbacks.append(callback)


async def announce_revoked(session_ids: Iterable[int]) -> None:
    ids = list(session_ids)
    for callback in list(_callbacks):
        await callback(ids)


async def is_session_active(session_id: int) -> bool:
    row = (
        await AuthSession.select(AuthSession.revoked_at, AuthSession.expires_at)
        .where(AuthSession.id == session_id)
        .first()
    )
    return row is not None and row["revoked_at"] is None
