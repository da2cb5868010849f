"""OpenTelemetry tracing, on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (OTLP over HTTP).

Spans: every HTTP request (``HTTP <method> <route template>``, continuing an incoming ``traceparent``),
every PostgreSQL query (asyncpg) and Redis command (redis-py), every job, and the relay's publish of
each outbox event. A job's span continues the trace that enqueued it (``enqueue`` stores the W3C
``traceparent`` in the job's args); an outbox row keeps the ``traceparent`` of the span that emitted it
and the relay's ``outbox publish <event>`` span continues it. So a request, the jobs it queued, the
events either emitted and their publication are one trace. Log lines carry ``trace_id`` while a span is
current.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from server.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")
_PROPAGATOR = TraceContextTextMapPropagator()
TRACER_NAME = "social-flow"
TRACEPARENT_ARG = "traceparent"
"""The job argument carrying the enqueuing trace's W3C ``traceparent``."""


class Tracing:
    """The process's tracer provider and the instrumentations it turned on; ``close`` undoes them."""

    def __init__(self, settings: Settings) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        obs = settings.observability
        assert obs.otlp_endpoint
        self.provider = TracerProvider(resource=Resource.create({"service.name": obs.service_name}))
        exporter = OTLPSpanExporter(endpoint=f"{obs.otlp_endpoint.rstrip('/')}/v1/traces")
        self.provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
        self.tracer = self.provider.get_tracer(TRACER_NAME)
        self._instrumentors: list[Any] = [AsyncPGInstrumentor(), RedisInstrumentor()]
        for instrumentor in self._instrumentors:
            instrumentor.instrument(tracer_provider=self.provider)
        # OpenTelemetry's process-wide provider (its own API, not our state) is what job wrappers and library
        # code find; set only once per process.
        trace.set_tracer_provider(self.provider)

    def close(self) -> None:
        for instrumentor in self._instrumentors:
            instrumentor.uninstrument()
        self.provider.shutdown()  # flushes what is pending


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, or ``None`` when none is recording."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def continued(name: str, traceparent: str | None, **attributes: Any) -> Iterator[trace.Span | None]:
    """A consumer span continuing a stored ``traceparent`` (an outbox row's); nothing without one."""
    if not traceparent:
        yield None
        return
    parent = _PROPAGATOR.extract({"traceparent": traceparent})
    with tracer().start_as_current_span(name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes) as span:
        yield span


def tracing_middleware(app: ASGIApp) -> ASGIApp:
    """A server span per HTTP request, continuing an incoming ``traceparent`` (no-op with tracing off)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"}
        parent = _PROPAGATOR.extract(carrier)
        route = str(scope.get("path_template") or "unmatched")  # type: ignore[typeddict-item]
        method = str(scope.get("method", "GET"))  # type: ignore[typeddict-item]
        with tracer().start_as_current_span(f"HTTP {method} {route}", context=parent, kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("http.route", route)

            async def send_and_watch(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await app(scope, receive, send_and_watch)

    return middleware


def traced_job(name: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Wrap a job: its span ``job <name>`` continues the trace of whoever enqueued it."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def run(*args: Any, traceparent: str | None = None, **kwargs: Any) -> R:
            parent = _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})
            token = otel_context.attach(parent)
            try:
                with tracer().start_as_current_span(f"job {name}", kind=SpanKind.CONSUMER) as span:
                    span.set_attribute("job.kind", name)
                    return await fn(*args, **kwargs)
            finally:
                otel_context.detach(token)

        run.traced = True  # type: ignore[attr-defined]  # enqueue adds the traceparent argument
        return run

    return decorate


def add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current trace and span ids on every log line (when a span is current)."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event_dict.setdefault("span_id", format(ctx.span_id, "016x"))
    return event_dict
