"""Users, tokens and events for the notifications tests."""

from __future__ import annotations

from typing import Any

from server import events


async def user(client: Any, username: str) -> tuple[str, dict[str, str]]:
    """Register ``username`` and log in: ``(user id, auth headers)``."""
    res = await client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": "correct horse battery"},
    )
    assert res.status_code == 201, res.text
    tokens = (
        await client.post("/api/v1/auth/login", json={"login": username, "password": "correct horse battery"})
    ).json()
    return res.json()["id"], {"Authorization": f"Bearer {tokens['access_token']}"}


async def member(username: str) -> str:
    """A user who only acts (never calls the API): inserted directly, skipping password hashing."""
    from models.accounts import User

    row = User(
        username=username,
        email=f"{username}@example.com",
        email_normalized=f"{username}@example.com",
        password_hash="!unusable",
    )
    await row.save()
    return str(row.id)


async def fire(client: Any, event: events.DomainEvent) -> None:
    """Dispatch ``event`` on the event bus of ``client``'s app inside a transaction, as the social domain does."""
    from models.accounts import User

    bus: events.EventBus = client.sf_app.state.event_bus
    async with User._meta.db.transaction():
        await bus.dispatch(event)


async def drain(app: Any) -> None:
    """Run every due job with ``app``'s runtime objects as the worker's context, then return."""
    from server import jobqueue
    from server.notifications.runtime import CONTEXT_KEY

    context = {CONTEXT_KEY: app.state.notifications_runtime, jobqueue.SETTINGS_KEY: app.state.settings}
    await jobqueue.run_worker(app.state.job_queue, context, wait=False, concurrency=1)


async def jobs_of(task: str) -> list[dict[str, Any]]:
    from models.outbox import OutboxEvent

    return await OutboxEvent.raw(
        "SELECT id, status::text AS status, args, scheduled_at, attempts FROM procrastinate_jobs "
        "WHERE task_name = {} ORDER BY id",
        task,
    )


async def outbox(channel: str) -> list[dict[str, Any]]:
    from models.outbox import OutboxEvent

    rows = await OutboxEvent.raw("SELECT event, data FROM outbox_events WHERE channel = {} ORDER BY id", channel)
    import json

    return [
        {"event": r["event"], "data": json.loads(r["data"]) if isinstance(r["data"], str) else r["data"]} for r in rows
    ]


FCM_TOKEN = "dGVzdC1kZXZpY2U:APA91b" + "F" * 140


def fcm_token(n: int) -> str:
    return f"device{n:03d}:APA91b" + "x" * 140


def apns_token(n: int) -> str:
    return f"{n:064x}"


def subscription(base: str, name: str) -> tuple[dict[str, Any], Any, bytes]:
    """A browser's Web Push subscription to the stand-in: ``(subscription JSON, private key, auth)``."""
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    raw = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).decode().rstrip("=")

    return {"endpoint": f"{base}/wp/{name}", "keys": {"p256dh": b64(raw), "auth": b64(auth)}}, key, auth
