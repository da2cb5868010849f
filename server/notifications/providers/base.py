"""What every push provider shares: the message, the outcomes, and an HTTP client with our CA."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import msgspec

from server.jobqueue import Retryable


class Message(msgspec.Struct, frozen=True):
    """One push, already localized: what the device shows and the data the app receives."""

    title: str
    body: str
    collapse_key: str
    data: dict[str, str] = {}
    badge: int | None = None


class TokenGone(Exception):
    """The provider says this token will never work again: delete it."""


class Rejected(Exception):
    """The provider refused this message for good (not the token's fault): drop it, keep the token."""


class Provider(Protocol):
    async def send(self, token: dict[str, Any], message: Message) -> None:
        """Deliver ``message`` to ``token`` (a ``push_tokens`` row) or raise Retryable/TokenGone/Rejected."""

    async def aclose(self) -> None: ...


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """System trust, plus ``PUSH_CA_FILE`` when given (local stand-ins, private gateways)."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


def client(ca_file: str | None, *, http2: bool = False) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl_context(ca_file),
        http1=not http2,
        http2=http2,
        timeout=httpx.Timeout(10.0, connect=5.0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or HTTP-date), or ``None``."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_if_transient(response: httpx.Response, provider: str) -> None:
    """Raise ``Retryable`` on 429 and 5xx."""
    if response.status_code == 429 or response.status_code >= 500:
        raise Retryable(f"{provider} answered {response.status_code}", retry_after(response))


async def post(http: httpx.AsyncClient, provider: str, url: str, **kwargs: Any) -> httpx.Response:
    """POST, turning network failures into ``Retryable``."""
    try:
        return await http.post(url, **kwargs)
    except httpx.TransportError as exc:
        raise Retryable(f"{provider}: {type(exc).__name__}") from exc
