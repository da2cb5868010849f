"""Where social meets the realtime layer: the ``post:{id}`` subscribe policy and home-feed positions."""

from __future__ import annotations

from server.params import as_id
from server.realtime import api, authz
from server.social.runtime import SocialRuntime
from server.social.services.posts import can_view_post


async def post_channel_policy(user_id: int, arg: str) -> bool:
    """``post:{id}``: whoever can see the post (visibility and blocks)."""
    post_id = as_id(arg)
    return post_id is not None and await can_view_post(user_id, post_id)


async def position_of(channel: str) -> tuple[int, str] | None:
    """The channel's ``(offset, epoch)``, or ``None`` while realtime is not running (a CLI process)."""
    try:
        pos = await api.position(channel)
    except RuntimeError:
        return None
    return int(pos.offset), str(pos.epoch)


def wire(runtime: SocialRuntime) -> None:
    """Register the post channel policy and give the home feed its position source."""
    authz.register_policy("post", post_channel_policy)
    runtime.position_of = position_of
