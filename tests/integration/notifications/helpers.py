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


async def fire(event: events.DomainEvent) -> None:
    """Dispatch ``event`` inside a transaction, as the social domain does."""
    from models.accounts import User

    async with User._meta.db.transaction():
        await events.dispatch(event)


async def drain() -> None:
    """Run every due job, then return."""
    from server.notifications import queue

    await queue.run_worker(wait=False, concurrency=1)


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
