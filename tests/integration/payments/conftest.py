"""Payments tests: a real localstripe process behind a Stripe wire-format stand-in; jobs run on demand.

After every test the ledger is checked: every transaction balances and no balance went negative.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from server.settings import Settings

from tests.support.stripe.server import LocalStripe, StripeStandin, webhook_secret


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    proc = LocalStripe()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
async def stripe_standin(localstripe: LocalStripe) -> AsyncIterator[StripeStandin]:
    server = StripeStandin(localstripe, webhook_secret())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def stripe(stripe_standin: StripeStandin) -> StripeStandin:
    """The stand-in, emptied (``payments_settings`` points the app at it)."""
    stripe_standin.reset()
    return stripe_standin


@pytest.fixture
def payments_settings(settings: Settings, stripe: StripeStandin) -> Settings:
    """The session's settings with Stripe on the stand-in; jobs run only when a test drains the queue."""
    from tests.support.settings import derive

    return derive(
        settings,
        **{
            "payments.secret_key": "sk_test_socialflow",
            "payments.webhook_secret": stripe.webhook_secret,
            "payments.api_base": stripe.base.rstrip("/"),
            "push.worker": "off",
        },
    )


@pytest.fixture
async def app(clean_db: None, redis_client: object, payments_settings: Settings) -> object:
    """The app on the Stripe stand-in, on an empty job queue (``clean_db`` empties its tables too)."""
    from tests.support.apps import app_for

    return app_for(payments_settings)


@pytest.fixture(autouse=True)
async def ledger_checked(client: object) -> AsyncIterator[None]:
    """Every payments test ends with a ledger that balances (and the outbox published)."""
    import asyncio

    from models.outbox import OutboxEvent
    from server.payments import ledger

    yield
    assert await ledger.check() == []
    for _ in range(200):
        rows = await OutboxEvent.raw("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL) AS e")
        if not rows[0]["e"]:
            return
        await asyncio.sleep(0.05)
