"""What other domains call on the realtime layer of this process (outside of request DI too).

- ``await position(channel)`` -> ``Position(offset, epoch)``: list endpoints return it with their first
  page, so a client can load the list and then subscribe ``since`` it with no gap and no duplicate.
- ``await is_online(user_id)``: whether the user has an open, authenticated socket on any node.
- Events caused by a database change go through ``server.outbox.emit`` inside that transaction, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels.protocol import Position

if TYPE_CHECKING:
    from server.realtime.runtime import Realtime

_current: Realtime | None = None


def bind(realtime: Realtime | None) -> None:
    """Set the running realtime layer (``runtime.start``/``stop`` call this)."""
    global _current
    _current = realtime


def _running() -> Realtime:
    if _current is None:
        raise RuntimeError("the realtime layer is not running (is the app's lifespan started?)")
    return _current


async def position(channel: str) -> Position:
    """The channel's current ``{offset, epoch}``."""
    return await _running().broker.position(channel)


async def is_online(user_id: int) -> bool:
    """Whether ``user_id`` has at least one open, authenticated socket (any node when Redis is used)."""
    return await _running().presence.is_online(user_id)
