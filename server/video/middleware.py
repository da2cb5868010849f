"""tus ``OPTIONS`` discovery under ``/api/v1/uploads``.

Litestar answers ``OPTIONS`` itself (an ``Allow`` list) on every route, so the tus capability answer is
given here, before routing. A CORS preflight (``Access-Control-Request-Method``) passes through to
the CORS layer untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from server.video.runtime import VideoRuntime

PREFIX = "/api/v1/uploads"


def tus_options(runtime: Callable[[], VideoRuntime]) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware, answering with the upload limits of ``runtime()`` (the app's current video runtime)."""

    def factory(app: ASGIApp) -> ASGIApp:
        return _tus_options_middleware(app, runtime)

    return factory


def _tus_options_middleware(app: ASGIApp, runtime: Callable[[], VideoRuntime]) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "OPTIONS"
            and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/"))
            and not any(k == b"access-control-request-method" for k, _ in scope["headers"])
        ):
            from server.video.uploads import UploadService

            headers = UploadService(runtime()).options_headers()
            start: Any = {
                "type": "http.response.start",
                "status": 204,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            }
            await send(start)
            body: Any = {"type": "http.response.body", "body": b""}
            await send(body)
            return
        await app(scope, receive, send)

    return middleware
