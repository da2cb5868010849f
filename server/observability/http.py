"""HTTP metrics middleware: count and time every request by its route template, never its raw path."""

from __future__ import annotations

import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Litestar runs app middleware after routing, so ``path_template`` is the matched route (no id explosion)."""
    # The labelled children, looked up once per (method, route, status) instead of per request (``labels``
    # validates and takes a lock each call). Bounded: route templates and status codes, never raw paths.
    counters: dict[tuple[Any, str, int], Any] = {}
    timers: dict[tuple[Any, str], Any] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_watch)
        finally:
            route = scope.get("path_template") or "unmatched"  # type: ignore[typeddict-item]
            method = scope.get("method", "GET")  # type: ignore[typeddict-item]
            counter = counters.get((method, route, status))
            if counter is None:
                counter = counters[(method, route, status)] = HTTP_REQUESTS.labels(
                    method=method, route=route, status=str(status)
                )
            timer = timers.get((method, route))
            if timer is None:
                timer = timers[(method, route)] = HTTP_LATENCY.labels(method=method, route=route)
            counter.inc()
            timer.observe(time.perf_counter() - start)

    return middleware
