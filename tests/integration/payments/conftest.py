"""Payments tests: a real localstripe process behind a Stripe wire-format stand-in; jobs run on demand.

After every test the ledger is checked: every transaction balances and no balance went negative.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

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
def stripe(stripe_standin: StripeStandin, monkeypatch: pytest.MonkeyPatch) -> StripeStandin:
    """The stand-in, emptied, with the app's settings pointing at it (set before the app is built)."""
    stripe_standin.reset()
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_socialflow")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", stripe_standin.webhook_secret)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_standin.base)
    monkeypatch.setenv("NOTIFY_WORKER", "off")
    return stripe_standin


@pytest.fixture
async def app(clean_db: None, redis_client: object, stripe: StripeStandin) -> object:
    from server import db
    from server.app import create_app
    from server.settings import get_settings

    await db.engine().run_ddl("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers")
    get_settings.cache_clear()
    return create_app()


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
