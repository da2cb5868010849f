"""Who may subscribe to (and publish on) each channel kind: one table, checked at every subscribe.

Other domains register the kinds they own: ``register_policy("post", may_see_post)`` where the callable is
``async (user_id, channel_arg) -> bool``. A kind without a policy is denied. Client publish is off for
every kind until it opts in with ``allow_client_publish(kind, handler)``, where the handler is
``async (user_id, channel_arg, event, data) -> Outgoing | None`` and raises ``PublishRefused`` to refuse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from channels import names
from channels.gateway import Outgoing, PublishRefused
from channels.protocol import FORBIDDEN

ChannelCheck = Callable[[int, str], Awaitable[bool]]
PublishHandler = Callable[[int, str, str, bytes], Awaitable[Outgoing | None]]


async def only_that_user(user_id: int, arg: str) -> bool:
    return arg == str(user_id)


async def any_authenticated(user_id: int, arg: str) -> bool:
    return True


SUBSCRIBE: dict[str, ChannelCheck] = {
    names.USER: only_that_user,
    names.HOME: only_that_user,
    names.PUBLIC: any_authenticated,
    names.HASHTAG: any_authenticated,
    # names.POST: registered by social (post visibility and blocks); names.LIVE: by live.
}
PUBLISH: dict[str, PublishHandler] = {}


def register_policy(kind: str, check: ChannelCheck) -> None:
    """Decide who may subscribe to channels of ``kind`` (replaces any earlier policy for it)."""
    if kind not in names.KINDS:
        raise ValueError(f"unknown channel kind {kind!r}")
    SUBSCRIBE[kind] = check


def allow_client_publish(kind: str, handler: PublishHandler) -> None:
    """Let ``handler`` decide what clients' publishes on ``kind`` channels become."""
    if kind not in names.KINDS:
        raise ValueError(f"unknown channel kind {kind!r}")
    PUBLISH[kind] = handler


class ChannelPolicy:
    """The gateway's view of the tables above."""

    async def may_subscribe(self, user_id: int, channel: names.Channel) -> bool:
        check = SUBSCRIBE.get(channel.kind)
        return check is not None and await check(user_id, channel.arg)

    async def publish(self, user_id: int, channel: names.Channel, event: str, data: bytes) -> Outgoing | None:
        handler = PUBLISH.get(channel.kind)
        if handler is None:
            raise PublishRefused(FORBIDDEN, "clients may not publish here")
        return await handler(user_id, channel.arg, event, data)
