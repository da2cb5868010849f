"""The composition root: every long-lived object of one process, built once from the settings.

``create_app(settings)`` builds one ``Runtime`` (constructors only, no I/O) and runs ``serving()`` as
its lifespan; the worker entries (``python -m server worker|video-worker``) build the same ``Runtime``
and run ``working()``. Domains receive these objects through their constructors and Litestar DI:
``state()`` is the app's state, read only by the providers in each domain's ``deps.py``. No module
holds a runtime object, and nothing is assigned into another object after it was built.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import structlog

from server import db, jobqueue
from server.accounts.revocation import Revocations
from server.ads.runtime import AdsRuntime
from server.deps import AccessTokens
from server.events import EventBus
from server.jobqueue import SETTINGS_KEY
from server.jobs import JOBS
from server.live import tips as live_tips
from server.live.room import Room
from server.live.runtime import LiveRuntime
from server.mail import Mailer
from server.notifications.handlers import NotificationHandlers
from server.notifications.providers.registry import PushProviders
from server.notifications.runtime import CONTEXT_KEY, NotificationsRuntime
from server.observability.sampler import Sampler
from server.payments import runtime as payments_runtime
from server.ratelimit import RateLimiter
from server.realtime import authz, kinds
from server.realtime.runtime import Realtime, make_broker, position_or_none
from server.settings import Settings
from server.social.home_read import HomeRead
from server.social.realtime_hooks import post_channel_policy
from server.social.runtime import SocialRuntime
from server.video import jobs as video_jobs
from server.video import runtime as video_runtime
from server.video.realtime_hooks import video_channel_policy

log = structlog.get_logger(__name__)


def make_redis(settings: Settings) -> Any | None:
    """The process's one Redis client (one pool, shared by the broker, presence and every domain), or ``None``."""
    if not settings.redis.url:
        return None
    from channels.redis_cluster import connect

    # Its options (a blocking pool, no socket_timeout, no hidden retries) and why: ``connect``'s docstring.
    return connect(settings.redis.url)


async def _ready_redis(redis: Any | None) -> None:
    """A cluster client learns the slot map on its first command; pub/sub (session revocations) needs it first."""
    if redis is not None and hasattr(redis, "nodes_manager"):
        await redis.initialize()


class Runtime:
    """The runtime objects of one process (an app or a worker), wired through their constructors."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        key = settings.security.secret_key
        # Domain events (``server.events``): dispatched by social, payments and live hooks; notifications and
        # live tips subscribe while ``serving()``/``working()`` run, ads while its runtime runs.
        self.events = EventBus()
        self.redis = make_redis(settings)
        self.revocations = Revocations(
            self.redis,
            access_ttl=settings.security.access_ttl_seconds,
            cache_seconds=settings.security.session_cache_seconds,
        )
        self.access_tokens = AccessTokens(settings.security, self.revocations)
        self.limiter = RateLimiter(self.redis)
        self.mailer = Mailer(settings)
        broker, presence = make_broker(settings, self.redis)
        self.replicas = db.replica_set(settings.database, self.redis)
        self.social = SocialRuntime(
            settings.social,
            key,
            self.redis,
            media_dir=settings.data_dir / "media",
            positions=functools.partial(position_or_none, broker),
            replicas=self.replicas,
            bus=self.events,
        )
        # The home feed's session check, timeline and live position in one Redis round trip.
        self.home_read = HomeRead(self.redis, self.access_tokens, self.social, broker)
        self.video = video_runtime.build(settings, self.social)
        # Each feed page's ad selection goes out on the home read's shared Redis connection too.
        self.ads = AdsRuntime(settings.ads, key, self.redis, self.events, lane=self.home_read.lane)
        self.live = LiveRuntime(settings.live, self.redis, broker, presence, key, self.social.access_changes)
        room = Room(self.live)
        # The subscribe policy of every channel kind, in one table (see ``server.realtime.authz``).
        policy = authz.ChannelPolicy(
            subscribe={
                **authz.BASE_SUBSCRIBE,
                kinds.POST: post_channel_policy,
                kinds.VIDEO: video_channel_policy,
                kinds.LIVE: room.may_subscribe,
            },
            publish={kinds.LIVE: room.publish},
        )
        self.realtime = Realtime(
            settings, broker, presence, policy, self.access_tokens, self.social.access_changes, self.video.forget
        )
        self.payments = payments_runtime.build(settings, self.events)
        self.notifications = NotificationsRuntime(
            push=settings.push,
            public_url=settings.public_url,
            providers=PushProviders(settings.push),
            is_online=presence.is_online,
            position_of=self.realtime.position_of,
        )
        self.notification_handlers = NotificationHandlers(settings.push.collapse_seconds)
        # The job queue: every domain's jobs on one procrastinate App, opened by serving()/working().
        self.queue = jobqueue.build(JOBS)
        obs = settings.observability
        self.sampler = Sampler(self.realtime, obs.sample_seconds) if obs.metrics_token else None

    def state(self) -> dict[str, Any]:
        """The app's state: what the DI providers hand to controllers and services."""
        return {
            "settings": self.settings,
            "event_bus": self.events,
            "redis": self.redis,
            "revocations": self.revocations,
            "access_tokens": self.access_tokens,
            "limiter": self.limiter,
            "replicas": self.replicas,
            "mailer": self.mailer,
            "realtime": self.realtime,
            "social": self.social,
            "home_read": self.home_read,
            "video": self.video,
            "ads": self.ads,
            "live": self.live,
            "payments": self.payments,
            "notifications_runtime": self.notifications,
            "metrics_sampler": self.sampler,
            "job_queue": self.queue,
        }

    def job_context(self) -> dict[str, Any]:
        """What the queue's jobs receive besides ``context.app`` (``self.queue``): the notifications runtime
        (``server.notifications.runtime.from_job``), the payments context (``server.payments.runtime.from_job``)
        and this process's settings (``server.jobqueue.settings_of``)."""
        return {
            CONTEXT_KEY: self.notifications,
            payments_runtime.CONTEXT_KEY: self.payments,
            SETTINGS_KEY: self.settings,
        }

    def _subscribe_handlers(self, stack: AsyncExitStack) -> None:
        """Notifications and live tips react to domain events in app nodes and job workers alike (a payment
        applied by a worker's job records its tip and notifies as one applied by an app node does)."""
        self.notification_handlers.subscribe(self.events)
        stack.callback(self.notification_handlers.unsubscribe, self.events)
        live_tips.register(self.events)
        stack.callback(live_tips.unregister, self.events)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Start everything an app node runs; stop it in the reverse order (sockets close with 1001 first)."""
        settings = self.settings
        async with AsyncExitStack() as stack:
            if settings.observability.otlp_endpoint:
                from server.observability.tracing import Tracing

                tracing = Tracing(settings)
                stack.callback(tracing.close)
            await db.start_pool(settings.database)
            stack.push_async_callback(db.close_pool)
            await _ready_redis(self.redis)
            if self.replicas is not None:
                await self.replicas.start()
                stack.push_async_callback(self.replicas.stop)
            stack.push_async_callback(payments_runtime.close, self.payments)
            if self.redis is not None:
                stack.push_async_callback(self.redis.aclose)
            stack.push_async_callback(self.home_read.close)  # its shared connection, before the client's
            self.social.start()
            stack.push_async_callback(self.social.stop)
            await self.ads.start()
            stack.push_async_callback(self.ads.stop)
            await self.video.start()
            stack.push_async_callback(self.video.close)
            await self.queue.open_async()
            stack.push_async_callback(self.queue.close_async)
            stack.push_async_callback(self.notifications.providers.close)
            self._subscribe_handlers(stack)
            await self.revocations.start()
            stack.push_async_callback(self.revocations.stop)
            await self.mailer.start()
            stack.push_async_callback(self.mailer.stop)
            self.mailer.kick()  # mail queued while no node ran
            await self.realtime.start()
            stack.push_async_callback(self.realtime.stop)
            if self.sampler is not None:
                self.sampler.start()
                stack.push_async_callback(self.sampler.stop)
            self.live.start()
            stack.push_async_callback(self.live.stop)
            inprocess = settings.push.worker == "inprocess"
            if inprocess:
                worker = jobqueue.start_in_process(self.queue, self.job_context())
                stack.push_async_callback(jobqueue.stop_in_process, worker)
            if self.video.settings.worker == "inprocess":
                # Stopped first: a transcode cut short now is requeued on the next start.
                video_worker = video_jobs.start_in_process(self.queue, self.video)
                stack.push_async_callback(video_jobs.stop_in_process, video_worker)
            log.info("started", redis=self.redis is not None, notification_worker=inprocess)
            yield
        log.info("stopped")

    @asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Start what a job worker process needs: the database, the queue, presence and video storage."""
        async with AsyncExitStack() as stack:
            await db.start_pool(self.settings.database, max_size=5)
            stack.push_async_callback(db.close_pool)
            await _ready_redis(self.redis)
            if self.redis is not None:
                stack.push_async_callback(self.redis.aclose)
            await self.queue.open_async()
            stack.push_async_callback(self.queue.close_async)
            stack.push_async_callback(self.notifications.providers.close)
            stack.push_async_callback(payments_runtime.close, self.payments)
            self._subscribe_handlers(stack)  # jobs dispatch events too (a payment's PaymentReceived)
            # Sockets live in the server processes; with Redis their presence is shared, so "no push while
            # online" holds in a worker too. Without Redis a separate worker sees nobody online.
            await self.realtime.presence.start()
            stack.push_async_callback(self.realtime.presence.close)
            await self.video.start()
            stack.push_async_callback(self.video.close)
            yield
