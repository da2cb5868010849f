"""The realtime runtime of one process: broker, hub, gateway, presence and outbox relay, started together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from channels import names
from channels.broker import Broker, HistoryPolicy
from channels.gateway import Gateway, GatewayConfig, Identity, Unauthenticated
from channels.hub import Hub, Sub
from channels.memory import MemoryBroker
from channels.presence import Presence, RedisPresence
from channels.redis import RedisBroker
from channels.redis_cluster import ClusterBroker, is_cluster
from server import db, security
from server.accounts import revocation
from server.errors import Unauthorized
from server.realtime import api
from server.realtime.authz import ChannelPolicy
from server.realtime.recheck import RecheckSink
from server.realtime.relay import Relay
from server.settings import Settings

_gateways: weakref.WeakSet[Gateway] = weakref.WeakSet()
_registered = False


async def _revoked(session_ids: list[int]) -> None:
    for gateway in list(_gateways):
        gateway.revoke(session_ids)


def _close_sockets_before_server_exit(gateway: Gateway) -> None:
    """Close sockets with 1001 *before* uvicorn's own shutdown, which would close them with 1012.

    uvicorn closes every connection before the lifespan shutdown runs, so the lifespan is too late.
    We chain in front of the SIGTERM/SIGINT handlers uvicorn installed (only when it did: a plain
    default handler means no server owns the signals, as under tests).
    """
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous = signal.getsignal(sig)
        except ValueError:
            return
        if not callable(previous) or previous is signal.default_int_handler:
            continue

        def handler(signum: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
            async def close_then_exit() -> None:
                with contextlib.suppress(Exception):
                    await gateway.close_all()
                previous(signum, frame)

            loop.call_soon_threadsafe(lambda: _tasks.add(loop.create_task(close_then_exit())))

        with contextlib.suppress(ValueError):
            signal.signal(sig, handler)


_tasks: set[asyncio.Task[None]] = set()


@dataclass
class Realtime:
    broker: Broker
    gateway: Gateway
    presence: Presence
    relay: Relay

    async def stop(self) -> None:
        """Close every socket with 1001, then stop the relay, presence and broker."""
        await self.gateway.close_all()
        _gateways.discard(self.gateway)
        if api._current is self:
            api.bind(None)
        await self.relay.stop()
        with contextlib.suppress(Exception):
            await self.presence.close()
        await self.broker.close()


def make_authenticate(settings: Settings):  # type: ignore[no-untyped-def]
    from server.deps import authenticate_token

    sec = settings.security

    async def authenticate(token: str) -> Identity:
        try:
            user = await authenticate_token(token, settings)
            claims = security.decode_access_token(
                token, key=sec.secret_key, issuer=sec.jwt_issuer, audience=sec.jwt_audience
            )
        except (Unauthorized, security.TokenError) as exc:
            raise Unauthenticated(str(exc)) from None
        return Identity(user.id, user.session_id, float(claims["exp"]))

    return authenticate


async def _listen_for_rechecks(gateway: Gateway) -> None:
    """Subscribe this node's hub to the internal re-check channel (acted on by ``gateway.recheck``)."""
    sub = Sub(RecheckSink(gateway), names.RECHECK)
    await gateway.hub.add(sub)
    pos = await gateway.broker.position(names.RECHECK)
    sub.settle(pos.offset, pos.epoch)


async def start(settings: Settings) -> Realtime:
    """Start this process's realtime layer (the Redis one when ``REDIS_URL`` is set)."""
    global _registered
    rt = settings.realtime
    history = {kind: HistoryPolicy(size, ttl) for kind, size, ttl in rt.history}
    broker: Broker
    presence: Presence
    if settings.redis.url:
        broker = (
            ClusterBroker(settings.redis.url, history=history)
            if is_cluster(settings.redis.url)
            else RedisBroker(settings.redis.url, history=history)
        )
        presence = RedisPresence(settings.redis.url, ttl=rt.presence_ttl)
    else:
        broker = MemoryBroker(history=history)
        presence = Presence(ttl=rt.presence_ttl)
    await broker.start()
    await presence.start()
    config = GatewayConfig(
        auth_timeout=rt.auth_timeout,
        expiry_grace=rt.expiry_grace,
        max_subscriptions=rt.max_subscriptions,
        queue_count=rt.queue_count,
        queue_chars=rt.queue_chars,
        rate=rt.command_rate,
        allowed_origins=settings.http.allowed_origins,
    )
    from server.social.queries import block_relations  # social imports realtime: bind it at start-up

    gateway = Gateway(
        Hub(broker), make_authenticate(settings), ChannelPolicy(), config, presence, relations=block_relations
    )
    _gateways.add(gateway)
    if not _registered:
        revocation.on_revoked(_revoked)
        _registered = True
    await _listen_for_rechecks(gateway)
    relay = Relay(db.engine().config["dsn"], broker, poll=rt.relay_poll)
    relay.start()
    _close_sockets_before_server_exit(gateway)
    running = Realtime(broker, gateway, presence, relay)
    api.bind(running)
    return running
