"""Every Prometheus metric Social Flow exports, and helpers other domains record through.

Metric objects are process-wide by nature (Prometheus counts per process; with ``WORKERS`` > 1 the
values go to ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them), so they are declared here once,
the way prometheus-client expects, and never re-bound. Gauges say how processes combine
(``multiprocess_mode``): per-process figures are summed over live processes, cluster-wide ones
(read from the database) take the live maximum.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "socialflow"

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests_total",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "HTTP request latency (until the response is sent), by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WS_CONNECTIONS = Gauge(f"{PREFIX}_ws_connections", "Open websocket connections", multiprocess_mode="livesum")
ASYNCIO_TASKS = Gauge(
    f"{PREFIX}_asyncio_tasks",
    "Asyncio tasks alive in the process (a leak shows as growth)",
    multiprocess_mode="livesum",
)
WS_SUBSCRIPTIONS = Gauge(
    f"{PREFIX}_ws_subscriptions", "Websocket subscriptions, by channel kind", ["kind"], multiprocess_mode="livesum"
)
WS_EVENTS_DELIVERED = Counter(f"{PREFIX}_ws_events_delivered_total", "Events queued to subscribed sockets")
WS_SLOW_CONSUMER_CLOSES = Counter(
    f"{PREFIX}_ws_slow_consumer_closes_total", "Sockets closed with 4008 because their send queue overflowed"
)
OUTBOX_LAG = Gauge(
    f"{PREFIX}_outbox_lag_seconds",
    "Age of the oldest unpublished outbox event (0 when none)",
    multiprocess_mode="livemax",
)
OUTBOX_PENDING = Gauge(f"{PREFIX}_outbox_pending", "Unpublished outbox events", multiprocess_mode="livemax")
RELAY_PUBLISH = Histogram(
    f"{PREFIX}_relay_publish_duration_seconds",
    "Time the outbox relay takes to publish one event to the broker",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
RELAY_ACTIVE = Gauge(
    f"{PREFIX}_relay_active",
    "1 in the process whose outbox relay holds the relay lock and relays, else 0 (the cluster's sum is 1)",
    multiprocess_mode="livesum",
)
RELAY_INTERRUPTIONS = Counter(
    f"{PREFIX}_relay_interruptions_total",
    "Outbox relay interruptions, by reason: connect (no database connection), connection_lost (closed "
    "under it), timeout (a statement or a dead link), database (another database error), broker "
    "(the broker unavailable while publishing), abandoned_session (its own previous session, left holding the "
    "lock behind a dead link, ended on reconnect)",
    ["reason"],
)
JOBS_QUEUED = Gauge(
    f"{PREFIX}_jobs_queued", "Jobs waiting or running, by job kind", ["kind", "status"], multiprocess_mode="livemax"
)
JOBS_FAILED = Gauge(
    f"{PREFIX}_jobs_failed",
    "Jobs that failed for good (kept for inspection), by job kind",
    ["kind"],
    multiprocess_mode="livemax",
)
PUSH_SENDS = Counter(f"{PREFIX}_push_sends_total", "Push deliveries, by provider and outcome", ["provider", "outcome"])
TRANSCODE_SECONDS = Histogram(
    f"{PREFIX}_transcode_duration_seconds",
    "Video transcoding time per video, by outcome (ready / failed)",
    ["outcome"],
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
PAYMENT_WEBHOOKS = Counter(
    f"{PREFIX}_payment_webhooks_total",
    "Stripe webhooks, by event type and outcome: received / duplicate / bad_signature on delivery, then the "
    "job's applied / ignored / unhandled",
    ["event", "outcome"],
)
DB_REPLICA_READS = Counter(
    f"{PREFIX}_db_replica_reads_total",
    "List and feed reads that may use a read replica (one per request), by where they went: target "
    "replica, or target primary and why (written: the viewer's own write is not replayed yet; unavailable: "
    "no replica up and within the lag bound; fallback: the replica failed mid-read, counted per query)",
    ["target", "reason"],
)
DB_REPLICA_LAG = Gauge(
    f"{PREFIX}_db_replica_lag_seconds",
    "How far each read replica was behind the primary at the last poll (+Inf when down), by host:port/db",
    ["replica"],
    multiprocess_mode="livemax",
)
DATA_EXPORTS = Counter(f"{PREFIX}_data_exports_total", "Account data exports built, by outcome", ["outcome"])


def record_push(provider: str, outcome: str) -> None:
    """One push delivery attempt: ``outcome`` is ``sent``, ``token_gone``, ``rejected``, ``retry`` or ``error``."""
    PUSH_SENDS.labels(provider=provider, outcome=outcome).inc()


def record_transcode(seconds: float, outcome: str) -> None:
    """For the video domain: one transcode finished after ``seconds`` with ``outcome`` (``ready``/``failed``)."""
    TRANSCODE_SECONDS.labels(outcome=outcome).observe(seconds)


def record_webhook(event: str, outcome: str) -> None:
    """For the payments domain: one Stripe webhook of type ``event`` handled with ``outcome``."""
    PAYMENT_WEBHOOKS.labels(event=event, outcome=outcome).inc()
