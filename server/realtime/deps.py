"""Providers for other domains: the broker (``await broker.position(channel)``) and presence (``is_online``);
the gateway for the websocket endpoint (and ``server.asgi``, which serves sockets outside the app's stack).

Outside request DI, objects built by ``server.runtime`` receive them through their constructors.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from channels.broker import Broker
from channels.gateway import Gateway
from channels.presence import LocalPresence


def provide_broker(state: State) -> Broker:
    return state["realtime"].broker  # type: ignore[no-any-return]


def provide_presence(state: State) -> LocalPresence:
    return state["realtime"].presence  # type: ignore[no-any-return]


def provide_gateway(state: State) -> Gateway:
    return state["realtime"].gateway  # type: ignore[no-any-return]


def gateway_of(app: Litestar) -> Gateway:
    """The app's gateway, for ``server.asgi`` (built by ``create_app``)."""
    return provide_gateway(app.state)


# Handler/service parameters: ``broker: BrokerDep``, ``presence: PresenceDep``.
BrokerDep = NamedDependency[Broker]
PresenceDep = NamedDependency[LocalPresence]
GatewayDep = NamedDependency[Gateway]

dependencies = {
    "broker": Provide(provide_broker, sync_to_thread=False),
    "presence": Provide(provide_presence, sync_to_thread=False),
    "gateway": Provide(provide_gateway, sync_to_thread=False),
}
