"""create_app(): the only place that wires controllers, plugins, lifespan and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from server import db
from server.account_data.controllers import AccountDataController, ExportDownloadController
from server.accounts.controllers import AuthController, CredentialController, EnrollmentController, SessionController
from server.accounts.runtime import accounts_runtime
from server.admin.controllers import AdminController
from server.admin.panel.mount import admin_mount
from server.ads import config as ads_config
from server.ads.controllers import CONTROLLERS as ADS_CONTROLLERS
from server.ads.deps import dependencies as ads_dependencies
from server.ads.runtime import AdsRuntime
from server.deps import dependencies
from server.errors import exception_handlers
from server.health import HealthController
from server.live import deps as live_deps
from server.live import tips as live_tips
from server.live.controllers import CONTROLLERS as LIVE_CONTROLLERS
from server.live.runtime import LiveRuntime
from server.logging import configure as configure_logging
from server.middleware import request_id_middleware
from server.notifications import handlers as notification_handlers
from server.notifications import queue as notification_queue
from server.notifications import seams as notification_seams
from server.notifications.controllers import NotificationController, PushTokenController
from server.observability.controllers import MetricsController
from server.observability.http import metrics_middleware
from server.observability.sampler import Sampler
from server.observability.tracing import Tracing, tracing_middleware
from server.openapi import add_default_problems, add_links
from server.payments import runtime as payments_runtime
from server.payments.controllers import CONTROLLERS as PAYMENT_CONTROLLERS
from server.payments.deps import dependencies as payment_dependencies
from server.ratelimit import RateLimiter
from server.realtime import runtime as realtime
from server.realtime.asyncapi import AsyncAPIController
from server.realtime.controllers import RealtimeController, ws_endpoint
from server.realtime.deps import dependencies as realtime_dependencies
from server.replicas import record_writes_middleware
from server.settings import Settings, get_settings
from server.social import config as social_config
from server.social import realtime_hooks as social_realtime
from server.social.controllers import CONTROLLERS as SOCIAL_CONTROLLERS
from server.social.deps import dependencies as social_dependencies
from server.social.media import MediaController
from server.social.runtime import SocialRuntime
from server.video import jobs as video_jobs
from server.video import realtime_hooks as video_realtime
from server.video import runtime as video_runtime
from server.video.controllers import API_CONTROLLERS as VIDEO_CONTROLLERS
from server.video.controllers import MediaController as VideoMediaController
from server.video.deps import dependencies as video_dependencies
from server.video.middleware import tus_options_middleware

log = structlog.get_logger(__name__)
# tus clients in browsers read these from cross-origin answers.
TUS_HEADERS = ["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "Tus-Version",
               "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm", "Content-Range", "Accept-Ranges"]  # fmt: skip

WEB_DIR = Path(__file__).resolve().parent.parent / "web"  # the demo app at /app/


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application for ``settings`` (the environment's by default)."""
    settings = settings or get_settings()
    configure_logging()
    notification_handlers.register()
    live_tips.register()
    payments = payments_runtime.build(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        tracing = Tracing(settings) if settings.observability.otlp_endpoint else None
        await db.start_pool()
        redis = None
        if settings.redis.url:
            from channels.redis_cluster import connect

            # A blocking pool waits for a free connection instead of failing the 101st concurrent command,
            # and no socket_timeout: redis-py enforces it with asyncio.wait_for, which on Python 3.11 can
            # swallow a cancellation (background loops then never stop). Connects are still bounded.
            # A redis+cluster:// URL gives a RedisCluster client instead (channels.redis_cluster).
            redis = connect(
                settings.redis.url,
                max_connections=64,
                timeout=5,
                socket_timeout=None,
                socket_connect_timeout=5,
                health_check_interval=15,
            )
            if hasattr(redis, "nodes_manager"):
                # A cluster client learns the slot map on its first command; pub/sub (session revocations)
                # needs it before any command ran.
                await redis.initialize()
        app.state.redis = redis
        await db.start_replicas(settings.database, redis)
        await notification_queue.open_queue()
        social = SocialRuntime(
            social_config.from_env(), settings.security.secret_key, redis, media_dir=settings.data_dir / "media"
        )
        app.state.social = social
        social_realtime.wire(social)
        social.start()
        video = video_runtime.build(settings, social)
        await video.start()
        app.state.video = video
        video_realtime.wire()
        video_worker = video_jobs.start_in_process(video) if video.settings.worker == "inprocess" else None
        app.state.ads = ads = AdsRuntime(ads_config.from_env(), settings.security.secret_key, redis)
        await ads.start()
        try:
            async with accounts_runtime(app, settings, redis):
                app.state.realtime = rt = await realtime.start(settings)
                notification_seams.use_realtime(rt.presence.is_online, rt.broker.position)
                app.state.live = live = LiveRuntime(
                    settings.live, redis, rt.broker, rt.presence, settings.security.secret_key
                )
                live_deps.wire(live)
                live.start()
                sampler = None
                if settings.observability.metrics_token:
                    app.state.metrics_sampler = sampler = Sampler(rt, settings.observability.sample_seconds)
                    sampler.start()
                inprocess = settings.push.worker == "inprocess"
                worker = notification_queue.start_in_process() if inprocess else None
                try:
                    log.info("started", redis=bool(redis), notification_worker=inprocess)
                    yield
                finally:
                    if video_worker is not None:  # first: a transcode cut short now is requeued on start
                        await video_jobs.stop_in_process(video_worker)
                        video_worker = None
                    if worker is not None:
                        await notification_queue.stop_in_process(worker)
                    await live.stop()
                    if sampler is not None:
                        await sampler.stop()
                    await rt.stop()  # sockets close with 1001 first
        finally:
            if video_worker is not None:
                await video_jobs.stop_in_process(video_worker)
            await notification_queue.close_queue()
            await video.close()
            await ads.stop()
            await social.stop()
            if redis is not None:
                await redis.aclose()
            await payments_runtime.close(payments)
            await db.stop_replicas()
            await db.close_pool()
            log.info("stopped")
            if tracing is not None:
                tracing.close()

    api = Router(
        path="/api/v1",
        route_handlers=[
            AuthController,
            EnrollmentController,
            SessionController,
            CredentialController,
            AdminController,
            RealtimeController,
            ws_endpoint,
            NotificationController,
            PushTokenController,
            *SOCIAL_CONTROLLERS,
            *VIDEO_CONTROLLERS,
            *LIVE_CONTROLLERS,
            *ADS_CONTROLLERS,
            *PAYMENT_CONTROLLERS,
            AccountDataController,
            ExportDownloadController,
        ],
        dependencies={
            **social_dependencies,
            **video_dependencies,
            **ads_dependencies,
            **payment_dependencies,
            **live_deps.dependencies,
        },
    )

    # Avatars are public files; post images go through MediaController (signed URLs for non-public posts).
    media_dirs = {kind: settings.data_dir / "media" / kind for kind in ("avatars", "images")}
    for folder in media_dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    web_app = create_static_files_router(
        path="/app", directories=[WEB_DIR], html_mode=True, include_in_schema=False, name="web"
    )
    social_media = [
        create_static_files_router(path=f"/media/{kind}", directories=[folder], include_in_schema=False, name=kind)
        for kind, folder in media_dirs.items()
        if kind == "avatars"
    ]

    app = Litestar(
        route_handlers=[
            HealthController,
            AsyncAPIController,
            MetricsController,
            api,
            *social_media,
            web_app,
            admin_mount(settings),
            MediaController,
            VideoMediaController,
        ],
        lifespan=[lifespan],
        exception_handlers=exception_handlers,
        dependencies={**dependencies, **realtime_dependencies},
        middleware=[
            request_id_middleware,
            record_writes_middleware,
            metrics_middleware,
            tus_options_middleware,
            *([tracing_middleware] if settings.observability.otlp_endpoint else []),
        ],
        cors_config=CORSConfig(
            allow_origins=list(settings.http.cors_origins), expose_headers=["X-Request-ID", *TUS_HEADERS]
        ),
        request_max_body_size=settings.http.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Social Flow",
            version="1.0.0",
            description="Real-time, websocket-first backend for a social video platform.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "ApiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
                }
            ),
        ),
        state=State(
            {
                "video": None,
                "settings": settings,
                "redis": None,
                "limiter": RateLimiter(),
                "mailer": None,
                "realtime": None,
                "payments": payments,
                "metrics_sampler": None,
            }
        ),
        logging_config=None,  # server.logging owns the handlers (JSON, redacted)
        debug=False,
    )
    add_default_problems(app)
    add_links(app)
    return app
