"""Where social meets the realtime layer: the ``post:{id}`` subscribe policy (registered by ``server.runtime``)."""

from __future__ import annotations

from server.params import as_id
from server.social.services.posts import can_view_post


async def post_channel_policy(user_id: int, arg: str) -> bool:
    """``post:{id}``: whoever can see the post (visibility and blocks)."""
    post_id = as_id(arg)
    return post_id is not None and await can_view_post(user_id, post_id)
