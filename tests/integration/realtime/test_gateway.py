"""The websocket gateway as a client sees it: auth, subscribe, receive, resume, and bad frames."""

from __future__ import annotations

from tests.integration.realtime.helpers import account, connect


async def publish(client, channel, event="post.created", data=None):
    import os

    res = await client.post(
        "/api/v1/realtime/publish",
        json={"channel": channel, "event": event, "data": data if data is not None else {"n": 1}},
        headers={"X-API-Key": os.environ["REALTIME_API_KEY"]},
    )
    assert res.status_code == 200, res.text
    return res.json()


async def test_auth_subscribe_receive_and_resume(client):
    uid, token = await account(client, "alice")
    async with connect(client, token) as ws:
        sub = await ws.subscribe(f"user:{uid}")
        assert sub["type"] == "subscribed" and sub["recovered"] is False and sub["publications"] == []
        first = await publish(client, f"user:{uid}", "notification.created", {"id": "1"})
        ev = await ws.event()
        assert ev == {
            "type": "event",
            "channel": f"user:{uid}",
            "offset": first["offset"],
            "epoch": first["epoch"],
            "event": "notification.created",
            "data": {"id": "1"},
        }
    for n in range(2, 5):
        await publish(client, f"user:{uid}", "notification.created", {"id": str(n)})
    async with connect(client, token) as ws:
        sub = await ws.subscribe(f"user:{uid}", since={"offset": ev["offset"], "epoch": ev["epoch"]})
        assert sub["recovered"] is True
        assert [p["data"]["id"] for p in sub["publications"]] == ["2", "3", "4"]
        assert [p["offset"] for p in sub["publications"]] == [ev["offset"] + 1, ev["offset"] + 2, ev["offset"] + 3]
        stale = await ws.subscribe(f"user:{uid}", since={"offset": 1, "epoch": "not-the-epoch"})
        assert stale["recovered"] is False and stale["publications"] == []
        assert stale["offset"] == ev["offset"] + 3 and stale["epoch"] == ev["epoch"]
