"""Where notifications meet the social graph: blocks, mutes and follows, read from social's tables by name.

Presence and channel positions come from the realtime layer through ``NotificationsRuntime``
(``server.notifications.runtime``), built by the composition root.
"""

from __future__ import annotations

from models.notifications import Notification


async def is_silenced(recipient_id: int, actor_id: int) -> bool:
    """Whether nothing from ``actor_id`` may reach ``recipient_id`` (a block either way, or a mute)."""
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


async def can_see_followers_only(viewer_id: int, author_id: int) -> bool:
    """Whether ``viewer_id`` may see ``author_id``'s followers-only posts (is an accepted follower)."""
    rows = await Notification.raw(
        "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = {} AND followee = {}) AS follows", viewer_id, author_id
    )
    return bool(rows[0]["follows"])
