"""Providers for other domains: the broker (channel positions) and presence (who is online)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from channels.broker import Broker
from channels.presence import Presence
from channels.protocol import Position


def provide_broker(state: State) -> Broker:
    return state["realtime"].broker  # type: ignore[no-any-return]


def provide_presence(state: State) -> Presence:
    return state["realtime"].presence  # type: ignore[no-any-return]


async def channel_position(broker: Broker, channel: str) -> Position:
    """``{offset, epoch}`` of ``channel`` now: list endpoints return it with their first page."""
    return await broker.position(channel)


# Handler/service parameters: ``broker: BrokerDep``, ``presence: PresenceDep``.
BrokerDep = NamedDependency[Broker]
PresenceDep = NamedDependency[Presence]

dependencies = {
    "broker": Provide(provide_broker, sync_to_thread=False),
    "presence": Provide(provide_presence, sync_to_thread=False),
}
