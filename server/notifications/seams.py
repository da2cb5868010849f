"""Where notifications meet the social graph and realtime presence, each behind one function.

``social`` owns blocks and mutes and ``server.realtime`` owns presence and channel positions; until
they register their answers here (from ``server.app``), nobody is blocked, nobody follows anybody
(followers-only posts notify no subscriber), nobody is online and the list carries no channel position.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

RelationCheck = Callable[[int, int], Awaitable[bool]]
OnlineCheck = Callable[[int], Awaitable[bool]]
PositionOf = Callable[[str], Awaitable[tuple[int, str] | None]]


async def _nobody_silenced(recipient_id: int, actor_id: int) -> bool:
    return False


async def _nobody_online(user_id: int) -> bool:
    return False


async def _no_position(channel: str) -> tuple[int, str] | None:
    return None


async def _follows_unknown(viewer_id: int, author_id: int) -> bool:
    return False


_silenced: RelationCheck = _nobody_silenced
_follows: RelationCheck = _follows_unknown
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
