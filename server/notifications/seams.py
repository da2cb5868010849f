"""Where notifications meet the social graph and realtime presence, each behind one function.

``social`` owns blocks, mutes and follows: by default they are read from its tables (``blocks``,
``mutes``, ``follows``) by name, once those exist, so this module needs nothing from ``server.social``;
social may register its own check instead. ``server.realtime`` owns presence and channel positions:
until ``server.app`` registers them, nobody is online and the list carries no channel position.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

RelationCheck = Callable[[int, int], Awaitable[bool]]
OnlineCheck = Callable[[int], Awaitable[bool]]
PositionOf = Callable[[str], Awaitable[tuple[int, str] | None]]


_tables_seen: set[str] = set()


async def _have(*tables: str) -> bool:
    """Whether all ``tables`` exist (remembered once true: tables are not dropped at runtime)."""
    from models.notifications import Notification

    missing = [t for t in tables if t not in _tables_seen]
    if missing:
        rows = await Notification.raw(
            "SELECT t FROM unnest({}::text[]) AS t WHERE to_regclass('public.' || t) IS NOT NULL", missing
        )
        _tables_seen.update(r["t"] for r in rows)
    return all(t in _tables_seen for t in tables)


async def _silenced_by_tables(recipient_id: int, actor_id: int) -> bool:
    from models.notifications import Notification

    if not await _have("blocks", "mutes"):
        return False
    rows = await Notification.raw(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (blocker = {} AND blocked = {}) OR (blocker = {} AND blocked = {})) "
        "OR EXISTS (SELECT 1 FROM mutes WHERE muter = {} AND muted = {}) AS silenced",
        recipient_id,
        actor_id,
        actor_id,
        recipient_id,
        recipient_id,
        actor_id,
    )
    return bool(rows[0]["silenced"])


async def _nobody_online(user_id: int) -> bool:
    return False


async def _no_position(channel: str) -> tuple[int, str] | None:
    return None


async def _follows_by_table(viewer_id: int, author_id: int) -> bool:
    from models.notifications import Notification

    if not await _have("follows"):
        return False
    rows = await Notification.raw(
        "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = {} AND followee = {}) AS follows", viewer_id, author_id
    )
    return bool(rows[0]["follows"])


_silenced: RelationCheck = _silenced_by_tables
_follows: RelationCheck = _follows_by_table
_online: OnlineCheck = _nobody_online
_position: PositionOf = _no_position


def set_silenced_check(check: RelationCheck) -> None:
    """``check(recipient, actor)`` is true when ``recipient`` blocked or muted ``actor`` (or ``actor`` blocked them)."""
    global _silenced
    _silenced = check


def set_follows_check(check: RelationCheck) -> None:
    """``check(viewer, author)`` is true when ``viewer`` is an accepted follower of ``author``."""
    global _follows
    _follows = check


def set_online_check(check: OnlineCheck) -> None:
    """``check(user)`` is true while the user has a live socket."""
    global _online
    _online = check


def set_position_of(position_of: PositionOf) -> None:
    """``position_of(channel)`` gives ``(offset, epoch)`` of the channel's history now."""
    global _position
    _position = position_of


async def is_silenced(recipient_id: int, actor_id: int) -> bool:
    """Whether nothing from ``actor_id`` may reach ``recipient_id`` (a block either way, or a mute)."""
    return await _silenced(recipient_id, actor_id)


async def can_see_followers_only(viewer_id: int, author_id: int) -> bool:
    """Whether ``viewer_id`` may see ``author_id``'s followers-only posts (is an accepted follower)."""
    return await _follows(viewer_id, author_id)


async def is_online(user_id: int) -> bool:
    """Whether ``user_id`` has a live socket right now (then pushes wait for their preference)."""
    return await _online(user_id)


async def channel_position(channel: str) -> tuple[int, str] | None:
    """The ``(offset, epoch)`` of ``channel``, or ``None`` while realtime exposes no positions."""
    return await _position(channel)


def use_realtime(is_online: OnlineCheck, position: Callable[[str], Awaitable[Any]]) -> None:
    """Wire presence and channel positions from the realtime layer (``Presence.is_online``, ``Broker.position``)."""

    async def position_of(channel: str) -> tuple[int, str] | None:
        try:
            current = await position(channel)
        except Exception:
            # The list must not fail because the broker is away; the client subscribes without ``since``.
            return None
        return int(current.offset), str(current.epoch)

    set_online_check(is_online)
    set_position_of(position_of)
