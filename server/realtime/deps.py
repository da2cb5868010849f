"""Providers for other domains: the broker (``await broker.position(channel)``) and presence (``is_online``).

Outside request DI, objects built by ``server.runtime`` receive them through their constructors.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from channels.broker import Broker
from channels.presence import LocalPresence


def provide_broker(state: State) -> Broker:
    return state["realtime"].broker  # type: ignore[no-any-return]


def provide_presence(state: State) -> LocalPresence:
    return state["realtime"].presence  # type: ignore[no-any-return]


# Handler/service parameters: ``broker: BrokerDep``, ``presence: PresenceDep``.
BrokerDep = NamedDependency[Broker]
PresenceDep = NamedDependency[LocalPresence]

dependencies = {
    "broker": Provide(provide_broker, sync_to_thread=False),
    "presence": Provide(provide_presence, sync_to_thread=False),
}
