"""tus ``OPTIONS`` discovery under ``/api/v1/uploads``.

Litestar answers ``OPTIONS`` itself (an ``Allow`` list) on every route, so the tus capability answer is
given here, before the route's handler. This middleware sits on the upload routes only
(``UploadController.middleware``), so no other request pays for it. A CORS preflight
(``Access-Control-Request-Method``) passes through to the CORS layer untouched.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

PREFIX = "/api/v1/uploads"


def tus_options(app: ASGIApp) -> ASGIApp:
    """The middleware, answering with the upload limits of the app's current video runtime (its ``video``
    state, which ``server.app.renew_runtime`` replaces with the runtime)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "OPTIONS"
            and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/"))
            and not any(k == b"access-control-request-method" for k, _ in scope["headers"])
        ):
            from server.video.uploads import UploadService

            headers = UploadService(scope["litestar_app"].state["video"]).options_headers()
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
