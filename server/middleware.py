"""The app's per-request ASGI layer: a request id on every response and log line, and the HTTP metrics."""

from __future__ import annotations

import os
import re
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.observability.http import HttpMetrics

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_bind = structlog.contextvars.bind_contextvars
_unbind = structlog.contextvars.unbind_contextvars


def request_id_of(scope: Scope) -> str:
    """A sane incoming ``X-Request-ID``, or a new one: 32 random hex digits (as ``uuid4().hex`` gave,
    without building a UUID object per request)."""
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            incoming = value.decode("latin-1")
            if _VALID_ID.match(incoming):
                return incoming
            break
    return os.urandom(16).hex()


def _has_origin(scope: Scope) -> bool:
    for key, _ in scope["headers"]:
        if key == b"origin":
            return True
    return False


def request_layer(app: ASGIApp, without_origin: ASGIApp | None = None) -> ASGIApp:
    """Wrap the Litestar app's whole handler (``server.app`` sets it as ``Litestar.asgi_handler``: inside
    ``Litestar.__call__``, outside its CORS and exception layers) with what every request needs:

    - the request id: a sane incoming ``X-Request-ID`` or a new one, bound to the log context (the access
      line carries it) and echoed on every response, error answers and CORS preflights included;
    - the HTTP metrics: count and time each routed request by its route template, never its raw path
      (``path_template``, which routing puts in the scope; a request that routing refused, e.g. a 404, has
      none and is not counted, as when this ran as route middleware).

    One coroutine frame and one ``send`` wrapper per request, where three app middlewares took three of each
    plus the extra exception layer Litestar puts inside any route that has middleware.

    ``without_origin``, when given, serves HTTP requests with no ``Origin`` header: the app past its CORS
    layer, which passes such a request through untouched (it only answers or decorates requests that carry
    one), so they skip its call and header parsing.
    """
    metrics = HttpMetrics()
    plain = without_origin if without_origin is not None else app

    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind != "websocket":
                await app(scope, receive, send)
                return
            request_id = request_id_of(scope)
            scope["state"]["request_id"] = request_id
            _bind(request_id=request_id)
            try:
                await app(scope, receive, send)
            finally:
                _unbind("request_id")
            return
        request_id = request_id_of(scope)
        scope["state"]["request_id"] = request_id
        _bind(request_id=request_id)
        header = (b"x-request-id", request_id.encode())
        start = time.perf_counter()
        status = 500

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append(header)
                message["headers"] = headers
            await send(message)

        try:
            await (app if _has_origin(scope) else plain)(scope, receive, send_wrapped)
        finally:
            if "path_template" in scope:
                metrics.observe(
                    scope["method"],  # type: ignore[typeddict-item]
                    scope["path_template"] or "unmatched",  # type: ignore[typeddict-item]
                    status,
                    time.perf_counter() - start,
                )
            _unbind("request_id")

    return layer
