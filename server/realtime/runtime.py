"""The realtime layer of one process: broker, hub, gateway, presence and outbox relay, built and started together.

``Realtime`` is built (no I/O) by the composition root (``server.runtime``) and started by the app's
lifespan; a worker process builds only what it reads (``broker`` positions, ``presence``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import structlog
from redis.asyncio.cluster import RedisCluster

from channels import names
from channels.broker import Broker, HistoryPolicy
from channels.gateway import Authenticate, Gateway, GatewayConfig, Identity, Unauthenticated
from channels.hub import Hub, Sub
from channels.memory import MemoryBroker
from channels.presence import LocalPresence, RedisPresence
from channels.protocol import Position
from channels.redis import RedisBroker
from channels.redis_cluster import ClusterBroker
from server import db, security
from server.errors import Unauthorized
from server.realtime import kinds
from server.realtime.authz import ChannelPolicy
from server.realtime.recheck import RecheckSink
from server.realtime.relay import Relay
from server.settings import Settings
from server.video.signing import AccessChanges

if TYPE_CHECKING:
    from server.deps import AccessTokens

log = structlog.get_logger(__name__)

PositionOf = Callable[[str], Awaitable[Position | None]]


def make_authenticate(settings: Settings, tokens: AccessTokens) -> Authenticate:
    sec = settings.security

    async def authenticate(token: str) -> Identity:
        try:
            user = await tokens.authenticate(token)
            claims = security.decode_access_token(
                token, key=sec.secret_key, issuer=sec.jwt_issuer, audience=sec.jwt_audience
            )
        except (Unauthorized, security.TokenError) as exc:
            raise Unauthenticated(str(exc)) from None
        return Identity(user.id, user.session_id, float(claims["exp"]))

    return authenticate


def make_broker(settings: Settings, redis: Any | None) -> tuple[Broker, LocalPresence]:
    """The broker and presence of this process for the app's kinds: on ``redis`` (the process's one client,
    a ``RedisCluster`` for a ``redis+cluster://`` URL) when there is one, in memory otherwise."""
    rt = settings.realtime
    history = {**kinds.HISTORY, **{kind: HistoryPolicy(size, ttl) for kind, size, ttl in rt.history}}
    if redis is not None:
        broker: Broker = (
            ClusterBroker(redis, history=history)
            if isinstance(redis, RedisCluster)
            else RedisBroker(redis, history=history)
        )
        return broker, RedisPresence(redis, ttl=rt.presence_ttl, kinds=kinds.PRESENCE)
    return MemoryBroker(history=history), LocalPresence(ttl=rt.presence_ttl, kinds=kinds.PRESENCE)


async def position_or_none(broker: Broker, channel: str) -> Position | None:
    """``channel``'s ``{offset, epoch}`` now, or ``None`` while the broker cannot say: a list (or a home page)
    must not fail because the broker is away; the client then subscribes without ``since``."""
    try:
        return await broker.position(channel)
    except Exception as exc:
        log.warning("channel_position_unavailable", channel_kind=channel.partition(":")[0], error=repr(exc))
        return None


class Realtime:
    """Broker, gateway, presence and relay of one process; ``start`` then ``stop`` (once each)."""

    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        presence: LocalPresence,
        policy: ChannelPolicy,
        tokens: AccessTokens,
        access_changes: AccessChanges | None = None,
        forget_video: Callable[[int], None] | None = None,
    ) -> None:
        rt = settings.realtime
        self.access_changes = access_changes
        self.forget_video = forget_video
        self.broker = broker
        self.presence = presence
        self.revocations = tokens.revocations
        config = GatewayConfig(
            auth_timeout=rt.auth_timeout,
            expiry_grace=rt.expiry_grace,
            max_subscriptions=rt.max_subscriptions,
            queue_count=rt.queue_count,
            queue_chars=rt.queue_chars,
            rate=rt.command_rate,
            allowed_origins=settings.http.allowed_origins,
        )
        self.policy = policy
        from server.social.queries.visibility import (
            block_relations,  # social imports realtime: bound here, not at import
        )

        authenticate = make_authenticate(settings, tokens)
        self.gateway = Gateway(
            Hub(broker),
            authenticate,
            policy,
            config,
            presence,
            relations=block_relations,
            vocabulary=kinds.VOCABULARY,
        )
        self.relay = Relay(str(db.engine().config["dsn"]), broker, poll=rt.relay_poll)
        self._unsubscribe_revocations: Callable[[], None] | None = None
        self._signal_tasks: set[asyncio.Task[None]] = set()

    async def position_of(self, channel: str) -> Position | None:
        """The channel's ``{offset, epoch}`` now, or ``None`` while the broker cannot say (lists still answer)."""
        return await position_or_none(self.broker, channel)

    async def start(self) -> None:
        """Start the broker and presence, listen for re-checks and revocations, start the relay."""
        await self.broker.start()
        await self.presence.start()

        async def revoked(session_ids: list[int]) -> None:
            self.gateway.revoke(session_ids)

        self._unsubscribe_revocations = self.revocations.on_revoked(revoked)
        await self._listen_for_rechecks()
        self.relay.start()
        self._close_sockets_before_server_exit()

    async def stop(self) -> None:
        """Close every socket with 1001, then stop the relay, presence and broker."""
        await self.gateway.close_all()
        if self._unsubscribe_revocations is not None:
            self._unsubscribe_revocations()
            self._unsubscribe_revocations = None
        await self.relay.stop()
        try:
            await self.presence.close()
        except Exception as exc:  # a Redis already gone: its keys expire with their TTL anyway
            log.warning("presence_close_failed", error=repr(exc))
        await self.broker.close()

    async def _listen_for_rechecks(self) -> None:
        """Subscribe this node's hub to the internal re-check channel (acted on by ``gateway.recheck``)."""
        sub = Sub(RecheckSink(self.gateway, self.broker, self.access_changes, self.forget_video), names.RECHECK)
        await self.gateway.hub.add(sub)
        pos = await self.broker.position(names.RECHECK)
        sub.settle(pos.offset, pos.epoch)
        # Known delivered from here: after an outage the broker replays what this node missed (a block
        # made meanwhile) instead of starting again from whatever comes next.
        self.broker.seen(names.RECHECK, pos)

    def _close_sockets_before_server_exit(self) -> None:
        """Close sockets with 1001 *before* uvicorn's own shutdown, which would close them with 1012.

        uvicorn closes every connection before the lifespan shutdown runs, so the lifespan is too late.
        We chain in front of the SIGTERM/SIGINT handlers uvicorn installed (only when it did: a plain
        default handler means no server owns the signals, as under tests).
        """
        loop = asyncio.get_running_loop()
        gateway, tasks = self.gateway, self._signal_tasks
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous = signal.getsignal(sig)
            except ValueError:
                return
            if not callable(previous) or previous is signal.default_int_handler:
                continue

            def handler(signum: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
                async def close_then_exit() -> None:
                    try:
                        await gateway.close_all()
                    except Exception as exc:  # exit anyway: uvicorn closes what is left with 1012
                        log.warning("close_sockets_on_signal_failed", error=repr(exc))
                    previous(signum, frame)

                loop.call_soon_threadsafe(lambda: tasks.add(loop.create_task(close_then_exit())))

            with contextlib.suppress(ValueError):  # not the main thread: no signal handlers to chain
                signal.signal(sig, handler)
