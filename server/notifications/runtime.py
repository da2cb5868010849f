"""What notification jobs and services use from the rest of the process, built by ``server.runtime``.

Jobs receive it as the worker's context (``additional_context["notifications"]``), services through DI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from procrastinate import JobContext

from channels.protocol import Position
from server.notifications.providers.registry import PushProviders
from server.settings import PushSettings

OnlineCheck = Callable[[int], Awaitable[bool]]
PositionOf = Callable[[str], Awaitable[Position | None]]

CONTEXT_KEY = "notifications"


@dataclass(frozen=True, slots=True)
class NotificationsRuntime:
    push: PushSettings
    public_url: str
    providers: PushProviders
    is_online: OnlineCheck
    """Whether the user has a live socket (on any node with Redis): then pushes wait for their preference."""
    position_of: PositionOf
    """A channel's ``{offset, epoch}`` now, or ``None`` when the broker cannot say."""


def from_job(context: JobContext) -> NotificationsRuntime:
    """The runtime the worker running this job was given."""
    rt = (context.additional_context or {}).get(CONTEXT_KEY)
    if rt is None:
        raise RuntimeError("the notification worker runs with its NotificationsRuntime as context")
    return rt  # type: ignore[no-any-return]
