"""create_app(): the only place that wires controllers, plugins, lifespan and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware._internal.cors import CORSMiddleware  # the class of `cors_config`'s layer
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from server.account_data.controllers import AccountDataController, ExportDownloadController
from server.accounts.controllers import AuthController, CredentialController, EnrollmentController, SessionController
from server.admin.controllers import AdminController
from server.admin.panel.mount import admin_mount
from server.ads.controllers import CONTROLLERS as ADS_CONTROLLERS
from server.ads.deps import dependencies as ads_dependencies
from server.deps import dependencies
from server.errors import exception_handlers
from server.health import HealthController
from server.live import deps as live_deps
from server.live.controllers import CONTROLLERS as LIVE_CONTROLLERS
from server.logging import configure as configure_logging
from server.middleware import request_layer
from server.notifications.controllers import CONTROLLERS as NOTIFICATION_CONTROLLERS
from server.notifications.deps import dependencies as notification_dependencies
from server.observability.controllers import MetricsController
from server.observability.tracing import tracing_middleware
from server.openapi import document
from server.payments.controllers import CONTROLLERS as PAYMENT_CONTROLLERS
from server.payments.deps import dependencies as payment_dependencies
from server.realtime.asyncapi import AsyncAPIController
from server.realtime.controllers import RealtimeController, ws_endpoint
from server.realtime.deps import dependencies as realtime_dependencies
from server.replicas import record_writes
from server.runtime import Runtime
from server.settings import Settings
from server.social.controllers import CONTROLLERS as SOCIAL_CONTROLLERS
from server.social.deps import dependencies as social_dependencies
from server.social.media import MediaController
from server.video.controllers import API_CONTROLLERS as VIDEO_CONTROLLERS
from server.video.controllers import MediaController as VideoMediaController
from server.video.deps import dependencies as video_dependencies

# tus clients in browsers read these from cross-origin answers.
TUS_HEADERS = ["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "Tus-Version",
               "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm", "Content-Range", "Accept-Ranges"]  # fmt: skip

WEB_DIR = Path(__file__).resolve().parent.parent / "web"  # the demo app at /app/


class _ApiRouter(Router):
    """The ``/api/v1`` router: built anew by every ``create_app`` and registered once, so it need not be copied.

    Litestar deep-copies a router it registers (a router may be shared by several apps); this one never is, and
    copying its ~300 handlers cost about 0.06 of the 0.37 CPU-s an app takes to build (the suite builds one per test).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _ApiRouter:
        return self


class CurrentRuntime:
    """The runtime an app's lifespan, middleware and DI use: the one ``create_app`` built, unless
    ``renew_runtime`` replaced it between two lifespans (tests reuse one app that way, see there)."""

    __slots__ = ("runtime", "serving")

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.serving = False

    def __call__(self) -> Runtime:
        return self.runtime


def renew_runtime(app: Litestar) -> None:
    """Give ``app`` a new ``Runtime`` built from the same settings, for its next lifespan.

    Building the Litestar app is ~0.25 CPU-s (route and dependency registration); a ``Runtime`` is ~1 ms.
    The test suite runs one app's lifespan per test, each with runtime objects of its own (pools, caches,
    broker, queue), as if the app were new: every runtime object lives in the ``Runtime``, none in the app.
    """
    current: CurrentRuntime = app.state[CURRENT_KEY]
    if current.serving:
        raise RuntimeError("renew_runtime: the app's lifespan is running")
    current.runtime = Runtime(current.runtime.settings)
    for key, value in current.runtime.state().items():
        app.state[key] = value


CURRENT_KEY = "current_runtime"


def create_app(settings: Settings) -> Litestar:
    """Build the application for ``settings`` (the entry point read them: ``server.settings.from_env``)."""
    configure_logging()
    # Every runtime object of this process, built once (server.runtime); nothing below holds one directly.
    current = CurrentRuntime(Runtime(settings))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        current.serving = True
        try:
            async with current.runtime.serving():
                yield
        finally:
            current.serving = False

    api = _ApiRouter(
        path="/api/v1",
        route_handlers=[
            AuthController,
            EnrollmentController,
            SessionController,
            CredentialController,
            AdminController,
            RealtimeController,
            ws_endpoint,
            *NOTIFICATION_CONTROLLERS,
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
            admin_mount(current),
            MediaController,
            VideoMediaController,
        ],
        lifespan=[lifespan],
        exception_handlers=exception_handlers,
        dependencies={**dependencies, **realtime_dependencies, **notification_dependencies},
        # Route middleware only when configured (replicas, tracing): a route with any middleware also gets an
        # exception layer of its own. The request id and metrics wrap the whole app instead (below), and the
        # tus OPTIONS answer sits on the upload routes (server.video.middleware).
        middleware=[
            *([record_writes(lambda: current.runtime.replicas)] if current.runtime.replicas is not None else []),
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
        state=State({**current.runtime.state(), CURRENT_KEY: current}),
        logging_config=None,  # server.logging owns the handlers (JSON, redacted)
        debug=False,
    )
    document(app)  # default problem responses and links, added when the schema is first built
    # Outside Litestar's CORS and exception layers: every response gets its X-Request-ID (server.middleware).
    # Requests without an Origin header go straight past the CORS layer, which would only pass them through.
    cors = app.asgi_handler
    app.asgi_handler = request_layer(cors, without_origin=cors.app if isinstance(cors, CORSMiddleware) else None)
    return app
