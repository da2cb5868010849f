"""Notifications tests: the worker runs on demand (``drain``), never behind the test's back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
def _worker_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set before the ``app`` fixture builds settings: jobs run only when a test drains the queue.
    monkeypatch.setenv("NOTIFY_WORKER", "off")
    monkeypatch.setenv("PUSH_COLLAPSE_SECONDS", "0")


@pytest.fixture(scope="session")
async def standins() -> AsyncIterator[object]:
    """FCM + OAuth + Web Push (HTTPS) and APNs (HTTP/2 over TLS) stand-ins, for the whole session."""
    import json

    from tests.integration.notifications.standins import APNsStandin, HTTPStandins, Keys, tmpdir

    keys = Keys(tmpdir())
    http, apns = HTTPStandins(keys), APNsStandin(keys)
    await http.start()
    await apns.start()
    (keys.dir / "fcm.json").write_text(json.dumps(http.service_account()))
    try:
        yield type("Standins", (), {"keys": keys, "http": http, "apns": apns})
    finally:
        await http.stop()
        await apns.stop()


@pytest.fixture
def push_env(standins: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """Point every provider at the stand-ins (set before the app reads its settings)."""
    s: object = standins
    keys, http, apns = s.keys, s.http, s.apns  # type: ignore[attr-defined]
    http.reset()
    apns.reset()
    for name, value in {
        "PUSH_CA_FILE": str(keys.cert_file),
        "FCM_CREDENTIALS_FILE": str(keys.dir / "fcm.json"),
        "FCM_API_URL": http.base,
        "APNS_KEY_FILE": str(keys.dir / "apns.p8"),
        "APNS_KEY_ID": "ABC123DEFG",
        "APNS_TEAM_ID": "TEAM123456",
        "APNS_TOPIC": "app.socialflow.ios",
        "APNS_URL": apns.base,
        "APNS_SANDBOX_URL": apns.base,
        "VAPID_PRIVATE_KEY_FILE": str(keys.dir / "vapid.pem"),
        "VAPID_SUBJECT": "mailto:ops@socialflow.test",
        "PUSH_BACKOFF_BASE": "4",
        "PUSH_MAX_ATTEMPTS": "3",
        # The stand-ins listen on loopback: allowed explicitly, as the SSRF guard refuses local hosts.
        "PUSH_ALLOW_HOSTS": f"127.0.0.1:{http.port}",
    }.items():
        monkeypatch.setenv(name, value)
    return standins


@pytest.fixture
async def app(clean_db: None, redis_client: object, push_env: object) -> object:
    """The app, built after the push settings point at the stand-ins, on an empty job queue."""
    from server import db
    from server.app import create_app
    from server.settings import get_settings

    # The queue's tables are not Piccolo tables, so ``clean_db`` leaves them.
    await db.engine().run_ddl("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers")

    get_settings.cache_clear()
    return create_app()


@pytest.fixture(autouse=True)
async def outbox_drained(client: object) -> AsyncIterator[None]:
    """Tear down only after the relay published what the test wrote (as tests/integration/social does).

    Shutting the app down while the relay is mid-batch can stall its cancellation (a 30 s lifespan
    timeout); this fixture is set up after ``client``, so it is torn down before it.
    """
    import asyncio

    yield
    from models.outbox import OutboxEvent

    for _ in range(200):
        rows = await OutboxEvent.raw("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL) AS e")
        if not rows[0]["e"]:
            return
        await asyncio.sleep(0.05)
