"""Who may subscribe to (and publish on) each channel kind: one table, checked at every subscribe.

The composition root (``server.runtime``) builds one ``ChannelPolicy`` from the policies the domains
export: ``subscribe`` maps a kind to ``async (user_id, channel_arg) -> bool`` (a kind without one is
denied); ``publish`` maps the kinds clients may publish on to ``async (user_id, channel_arg, event, data)
-> Outgoing | None``, which raises ``PublishRefused`` to refuse (every other kind refuses).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from channels import names
from channels.gateway import Outgoing, PublishRefused
from channels.protocol import FORBIDDEN
from server.realtime import kinds

ChannelCheck = Callable[[int, str], Awaitable[bool]]
PublishHandler = Callable[[int, str, str, bytes], Awaitable[Outgoing | None]]


async def only_that_user(user_id: int, arg: str) -> bool:
    return arg == str(user_id)


async def any_authenticated(user_id: int, arg: str) -> bool:
    return True


# The kinds the realtime layer itself decides; the domains add theirs (post, video, live) in the root.
BASE_SUBSCRIBE: dict[str, ChannelCheck] = {
    kinds.USER: only_that_user,
    kinds.HOME: only_that_user,
    kinds.PUBLIC: any_authenticated,
    kinds.HASHTAG: any_authenticated,
}


class ChannelPolicy:
    """The gateway's policy: the subscribe and publish tables, fixed when it is built."""

    def __init__(
        self, subscribe: Mapping[str, ChannelCheck], publish: Mapping[str, PublishHandler] | None = None
    ) -> None:
        for kind in [*subscribe, *(publish or {})]:
            if kind not in kinds.VOCABULARY:
                raise ValueError(f"unknown channel kind {kind!r}")
        # Plain dicts, so a test can swap one kind's policy for its duration.
        self.subscribe: dict[str, ChannelCheck] = dict(subscribe)
        self.publishers: dict[str, PublishHandler] = dict(publish or {})

    async def may_subscribe(self, user_id: int, channel: names.Channel) -> bool:
        check = self.subscribe.get(channel.kind)
        return check is not None and await check(user_id, channel.arg)

    async def publish(self, user_id: int, channel: names.Channel, event: str, data: bytes) -> Outgoing | None:
        handler = self.publishers.get(channel.kind)
        if handler is None:
            raise PublishRefused(FORBIDDEN, "clients may not publish here")
        return await handler(user_id, channel.arg, event, data)
