"""Notifications tests: the worker runs on demand (``drain``), never behind the test's back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from server.settings import Settings


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
def push_env(standins: object) -> object:
    """The stand-ins, with nothing received yet (``push_settings`` points the providers at them)."""
    s: object = standins
    s.http.reset()  # type: ignore[attr-defined]
    s.apns.reset()  # type: ignore[attr-defined]
    return standins


@pytest.fixture
def push_changes() -> dict[str, Any]:
    """More push settings for one test: ``@pytest.mark.parametrize("push_changes", [{...}])`` overrides this."""
    return {}


@pytest.fixture
def push_settings(settings: Settings, push_env: object, push_changes: dict[str, Any]) -> Settings:
    """The session's settings with every provider on the stand-ins; jobs run only when a test drains the queue."""
    import msgspec

    s: object = push_env
    keys, http, apns = s.keys, s.http, s.apns  # type: ignore[attr-defined]
    stand_ins = dict(
        worker="off",
        collapse_seconds=0.0,
        ca_file=str(keys.cert_file),
        fcm_credentials_file=str(keys.dir / "fcm.json"),
        fcm_api_url=http.base.rstrip("/"),
        apns_key_file=str(keys.dir / "apns.p8"),
        apns_key_id="ABC123DEFG",
        apns_team_id="TEAM123456",
        apns_topic="app.socialflow.ios",
        apns_url=apns.base.rstrip("/"),
        apns_sandbox_url=apns.base.rstrip("/"),
        vapid_private_key_file=str(keys.dir / "vapid.pem"),
        vapid_subject="mailto:ops@socialflow.test",
        backoff_base=4.0,
        max_attempts=3,
        # The stand-ins listen on loopback: allowed explicitly, as the SSRF guard refuses local hosts.
        allow_hosts=(f"127.0.0.1:{http.port}",),
    )
    return settings.replace(push=msgspec.structs.replace(settings.push, **{**stand_ins, **push_changes}))


@pytest.fixture
async def app(clean_db: None, redis_client: object, push_settings: Settings) -> object:
    """The app, its push providers on the stand-ins, on an empty job queue (``clean_db`` empties its tables)."""
    from tests.support.apps import app_for

    return app_for(push_settings)


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
