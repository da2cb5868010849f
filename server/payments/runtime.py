"""Building the payments context (settings + Stripe gateway) for the app and for jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.payments.gateway import StripeGateway
from server.payments.services.common import Context
from server.settings import Settings


def build(settings: Settings) -> Context:
    """The context for ``settings``; without Stripe keys its gateway is ``None`` (endpoints answer 503)."""
    pay = settings.payments
    gateway = StripeGateway(pay) if pay.enabled else None
    return Context(pay, gateway, settings.public_url, settings.security.secret_key)


async def close(ctx: Context) -> None:
    if ctx._gateway is not None:
        await ctx._gateway.close()


@asynccontextmanager
async def from_settings(settings: Settings) -> AsyncIterator[Context]:
    """A context for one job run, from the settings of the process that runs it."""
    ctx = build(settings)
    try:
        yield ctx
    finally:
        await close(ctx)
