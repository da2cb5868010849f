"""Domain exceptions and their RFC 9457 problem responses.

Services raise ``DomainError`` subclasses; ``exception_handlers`` turns them (and Litestar's own
HTTP exceptions) into ``application/problem+json`` with a stable ``code``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from redis import exceptions as redis_errors

from channels.broker import BrokerUnavailable

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, as every error answer carries it."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


class DomainError(Exception):
    """A rule was broken; carries its HTTP status and stable machine ``code``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_error", "Validation failed"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Not authenticated"


class MFARequired(DomainError):
    status, code, title = 401, "mfa_required", "A one-time code is required"


class InvalidOTP(DomainError):
    status, code, title = 401, "invalid_otp", "The one-time code is not valid"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class PaymentRequired(DomainError):
    """Visible but paid for: the teaser is free, the content needs a succeeded purchase."""

    status, code, title = 402, "payment_required", "Payment required"


class TooLarge(DomainError):
    status, code, title = 413, "too_large", "Request too large"


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"


_CODES_BY_STATUS = {
    400: ("validation_error", "Bad request"),
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too_large", "Request too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Validation failed"),
    429: ("rate_limited", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> Response[Problem]:
    body = Problem(type=f"/problems/{code}", title=title, status=status, code=code, detail=detail, errors=errors)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _domain_handler(_: Request, exc: DomainError) -> Response[Problem]:
    return problem_response(exc.status, exc.code, exc.title, exc.detail, headers=exc.headers)


def _http_handler(_: Request, exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        # Malformed JSON, wrong types and bad query parameters: one status and code for all.
        status = 422
    code, title = _CODES_BY_STATUS.get(status, ("error" if status >= 500 else "bad_request", "Error"))
    errors = exc.extra if isinstance(exc.extra, list) else None
    detail = exc.detail if status < 500 else None
    headers = dict(exc.headers or {})
    return problem_response(status, code, title, detail, headers=headers, errors=errors)


def _database_down(request: Request, exc: Exception) -> Response[Problem]:
    # PostgreSQL restarting, unreachable, or a pooled connection it dropped: the request did not happen;
    # answer 503 (retry soon), not 500. The pool reconnects by itself once the database is back.
    log.warning("database_unavailable", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        503, "unavailable", "Service unavailable", "the database is unavailable; retry", headers={"Retry-After": "2"}
    )


def _redis_down(request: Request, exc: Exception) -> Response[Problem]:
    # Redis unreachable, restarting or stalled where a request needs it (a timeline, a rate limit): an
    # outage, answered like the database's, 503 with Retry-After; clients retry ``unavailable``.
    log.warning("redis_unavailable", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        503, "unavailable", "Service unavailable", "Redis is unavailable; retry", headers={"Retry-After": "2"}
    )


def _os_error(request: Request, exc: OSError) -> Response[Problem]:
    # The database's Unix socket is missing while PostgreSQL restarts (FileNotFoundError from the driver):
    # an outage, not a bug of ours. Any other OSError stays a 500.
    tb = exc.__traceback__
    while tb is not None:
        if "/asyncpg/" in tb.tb_frame.f_code.co_filename:
            return _database_down(request, exc)
        tb = tb.tb_next
    return _unhandled(request, exc)


def _recursion(request: Request, exc: RecursionError) -> Response[Problem]:
    # msgspec raises RecursionError (not DecodeError) for JSON nested deeper than it can decode:
    # that is bad input. Any other recursion is our bug and stays a 500.
    if "deserializ" in str(exc):
        return problem_response(400, "validation_error", "Bad request", "JSON is nested too deeply")
    return _unhandled(request, exc)


def _unhandled(request: Request, exc: Exception) -> Response[Problem]:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(500, "internal_error", "Internal server error")


exception_handlers: dict[type[Exception] | int, Any] = {
    DomainError: _domain_handler,
    HTTPException: _http_handler,
    asyncpg.PostgresConnectionError: _database_down,
    asyncpg.exceptions.OperatorInterventionError: _database_down,  # admin/crash shutdown, cannot connect now
    asyncpg.InterfaceError: _database_down,  # the connection was closed under us
    asyncpg.InternalClientError: _database_down,  # a pooled connection broken mid-restart
    ConnectionError: _database_down,  # refused or reset while connecting
    redis_errors.ConnectionError: _redis_down,  # refused, reset or closed (redis-py's own, not the builtin)
    redis_errors.TimeoutError: _redis_down,
    BrokerUnavailable: _redis_down,
    OSError: _os_error,
    RecursionError: _recursion,
    Exception: _unhandled,
}
