"""OpenAPI helpers: the documented problem responses of an operation."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from server.errors import Problem

_DESCRIPTIONS = {
    400: "Bad request (`validation_error`)",
    401: "Not authenticated (`unauthorized`)",
    403: "Not allowed (`forbidden`)",
    404: "Not found (`not_found`)",
    409: "Conflict (`conflict`)",
    413: "Body too large (`too_large`)",
    422: "Invalid input (`validation_error`)",
    429: "Rate limited (`rate_limited`), with `Retry-After`",
    503: "A dependency is down (`unavailable`)",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a handler: each status documented as an RFC 9457 problem."""
    return {
        status: ResponseSpec(
            Problem, description=_DESCRIPTIONS.get(status, "Problem"), media_type="application/problem+json"
        )
        for status in statuses
    }
