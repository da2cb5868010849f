"""Stripe, through the official SDK's async calls, with Stripe's failures turned into domain errors.

One ``StripeGateway`` per process (built in ``create_app`` / the worker from ``PaymentsSettings``).
``STRIPE_API_BASE`` points every call (Connect included) at another server, e.g. a local stand-in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import stripe
import structlog

from server.errors import Conflict, ServiceUnavailable, ValidationFailed
from server.settings import PaymentsSettings

log = structlog.get_logger(__name__)


class PaymentsUnavailable(ServiceUnavailable):
    status, code, title = 503, "payments_unavailable", "Payments are unavailable"


class PaymentRejected(ValidationFailed):
    """Stripe refused the request itself (a card error, an amount it will not take...)."""

    code, title = "payment_rejected", "The payment provider refused the request"


class StripeNotFound(PaymentRejected):
    """Stripe has no such object (404 ``resource_missing``)."""


class _HTTPXClient(stripe.HTTPXClient):
    """stripe-python's httpx client, sending its encoded form body as ``content=`` instead of ``data=``.

    The SDK (16.1) passes the already-encoded ``application/x-www-form-urlencoded`` string as ``data=``,
    which httpx 0.28 accepts with a DeprecationWarning on every call and httpx 1.0 drops. ``content=`` sends
    the same bytes with the same headers (the SDK sets ``Content-Type`` itself). A form dict (the SDK's
    empty body) stays ``data=``.
    """

    def _get_request_args_kwargs(self, method: str, url: str, headers: Any, post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        if isinstance(kwargs.get("data"), str | bytes):
            kwargs["content"] = kwargs.pop("data")
        return [args, kwargs]


class StripeGateway:
    """The SDK client plus error mapping: 5xx, timeouts and connection errors -> 503."""

    def __init__(self, settings: PaymentsSettings) -> None:
        self.settings = settings
        base = settings.api_base
        self.http = _HTTPXClient(timeout=settings.timeout)
        self.client = stripe.StripeClient(
            settings.secret_key or "sk_unset",
            base_addresses={"api": base, "connect": base, "files": base},
            http_client=self.http,
            # One retry on a network error or 5xx; the SDK resends the same Idempotency-Key.
            max_network_retries=1,
        )

    @property
    def v1(self) -> Any:
        return self.client.v1

    async def call(self, what: str, fn: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        """Run one Stripe call and answer plain dicts; Stripe down or failing -> 503, refused -> 422 / 409."""
        try:
            return as_dict(await fn())
        except stripe.IdempotencyError as exc:
            raise Conflict("this Idempotency-Key was used with different parameters") from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            log.warning("stripe_unreachable", call=what, error=type(exc).__name__)
            raise PaymentsUnavailable("the payment provider cannot be reached; retry with the same key") from exc
        except stripe.CardError as exc:
            raise PaymentRejected(exc.user_message or "the card was declined") from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise StripeNotFound(exc.user_message or "no such object") from exc
            log.warning("stripe_invalid_request", call=what, status=exc.http_status, message=exc.user_message)
            raise PaymentRejected(exc.user_message or "the payment provider refused the request") from exc
        except stripe.StripeError as exc:
            # 5xx, authentication and permission errors: nothing the caller can fix.
            log.warning("stripe_error", call=what, status=exc.http_status, error=type(exc).__name__)
            raise PaymentsUnavailable("the payment provider failed; retry with the same key") from exc

    async def close(self) -> None:
        await self.http.close_async()


def as_dict(obj: Any) -> dict[str, Any]:
    """A Stripe object (or a plain dict) as plain nested dicts."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)
