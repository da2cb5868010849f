"""Where social meets the realtime layer: the ``post:{id}`` subscribe policy and home-feed positions.

The realtime layer (``server.realtime``) is merged separately; until it is in this tree, ``wire`` does
nothing and the home feed's ``position`` stays ``null``.
"""

from __future__ import annotations

import contextlib

from server.social.posts import can_view_post
from server.social.runtime import SocialRuntime


async def post_channel_policy(user_id: int, arg: str) -> bool:
    """``post:{id}``: whoever can see the post (visibility and blocks)."""
    if not arg.isdigit() or len(arg) > 19 or int(arg) >= 1 << 63:
        return False
    return await can_view_post(user_id, int(arg))


def wire(runtime: SocialRuntime) -> bool:
    """Register the post policy and the position source with realtime, when it is present."""
    try:
        from server.realtime import api, authz  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return False
    authz.register_policy("post", post_channel_policy)

    async def position_of(channel: str) -> tuple[int, str] | None:
        with contextlib.suppress(RuntimeError):  # realtime not started (e.g. a CLI process)
            pos = await api.position(channel)
            return int(pos.offset), str(pos.epoch)
        return None

    runtime.position_of = position_of
    return True
