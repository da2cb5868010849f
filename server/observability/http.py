"""HTTP metrics: count and time every request by its route template, never its raw path.

Recorded by the app's request layer (``server.middleware.request_middleware``).
"""

from __future__ import annotations

from typing import Any

from server.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS


class HttpMetrics:
    """The labelled children, looked up once per (method, route, status) instead of per request (``labels``
    validates and takes a lock each call). Bounded: route templates and status codes, never raw paths."""

    __slots__ = ("counters", "timers")

    def __init__(self) -> None:
        self.counters: dict[tuple[str, str, int], Any] = {}
        self.timers: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self.counters.get((method, route, status))
        if counter is None:
            counter = self.counters[(method, route, status)] = HTTP_REQUESTS.labels(
                method=method, route=route, status=str(status)
            )
        timer = self.timers.get((method, route))
        if timer is None:
            timer = self.timers[(method, route)] = HTTP_LATENCY.labels(method=method, route=route)
        counter.inc()
        timer.observe(seconds)
