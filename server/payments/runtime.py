"""Building the payments context (settings + Stripe gateway + the event bus) for the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate import JobContext

from server.events import EventBus
from server.payments.gateway import StripeGateway
from server.payments.services.common import Context
from server.settings import Settings

CONTEXT_KEY = "payments"
"""Where the process's ``Context`` is in a job worker's context (``server.runtime.Runtime.job_context``)."""


def build(settings: Settings, bus: EventBus) -> Context:
    """The context for ``settings``; without Stripe keys its gateway is ``None`` (endpoints answer 503)."""
    pay = settings.payments
    gateway = StripeGateway(pay) if pay.enabled else None
    return Context(pay, gateway, bus, settings.public_url, settings.security.secret_key)


async def close(ctx: Context) -> None:
    if ctx._gateway is not None:
        await ctx._gateway.close()


def from_job(context: JobContext) -> Context:
    """The payments context of the process whose worker runs this job (its event bus has that process's
    handlers: a payment applied by a job notifies as one applied by an app node does)."""
    ctx = (context.additional_context or {}).get(CONTEXT_KEY)
    if not isinstance(ctx, Context):
        raise RuntimeError(
            "the job worker runs with the process's payments Context in its context (Runtime.job_context)"
        )
    return ctx


@asynccontextmanager
async def stripe_for(settings: Settings) -> AsyncIterator[StripeGateway | None]:
    """A Stripe gateway for one job run outside payments (``None`` while payments are not configured)."""
    gateway = StripeGateway(settings.payments) if settings.payments.enabled else None
    try:
        yield gateway
    finally:
        if gateway is not None:
            await gateway.close()
