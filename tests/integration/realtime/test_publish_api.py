"""POST /api/v1/realtime/publish: trusted backends publish with X-API-Key."""

from __future__ import annotations

import os

from tests.integration.realtime.helpers import account, connect


async def test_publish_with_the_key_reaches_subscribers(client):
    uid, token = await account(client, "alice")
    key = {"X-API-Key": os.environ["REALTIME_API_KEY"]}
    async with connect(client, token) as ws:
        sub = await ws.subscribe(f"user:{uid}")
        res = await client.post(
            "/api/v1/realtime/publish",
            json={"channel": f"user:{uid}", "event": "notification.created", "data": {"id": "9"}},
            headers=key,
        )
        assert res.status_code == 200
        assert res.json() == {"offset": sub["offset"] + 1, "epoch": sub["epoch"]}
        ev = await ws.event()
        assert ev["data"] == {"id": "9"} and ev["offset"] == res.json()["offset"]


async def test_missing_or_wrong_key_is_401_and_publishes_nothing(client):
    body = {"channel": "timeline:public", "event": "post.created", "data": {}}
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}):
        res = await client.post("/api/v1/realtime/publish", json=body, headers=headers)
        assert res.status_code == 401 and res.json()["code"] == "unauthorized"
        assert res.headers["content-type"].startswith("application/problem+json")
    garbage = await client.post(
        "/api/v1/realtime/publish", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 401  # the key is checked before the body is read
    ok = await client.post("/api/v1/realtime/publish", json=body, headers={"X-API-Key": os.environ["REALTIME_API_KEY"]})
    assert ok.json()["offset"] == 1


async def test_bad_bodies_are_422_or_400(client):
    key = {"X-API-Key": os.environ["REALTIME_API_KEY"]}
    for body in (
        {"channel": "nope", "event": "post.created", "data": {}},
        {"channel": "user:abc", "event": "post.created"},
        {"channel": "timeline:public", "event": "Not An Event"},
        {"channel": "timeline:public"},
        {"channel": 5, "event": "post.created"},
    ):
        res = await client.post("/api/v1/realtime/publish", json=body, headers=key)
        assert res.status_code in (400, 422) and res.json()["code"] == "validation_error", body
    malformed = await client.post(
        "/api/v1/realtime/publish", content=b"{oops", headers={**key, "content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "validation_error"


async def test_without_a_configured_key_the_api_is_404(make_client):
    async with make_client(redis=False, api_key=None) as client:
        res = await client.post(
            "/api/v1/realtime/publish",
            json={"channel": "timeline:public", "event": "post.created", "data": {}},
            headers={"X-API-Key": "anything"},
        )
        assert res.status_code == 404 and res.json()["code"] == "not_found"


async def test_asyncapi_document_describes_every_frame(client):
    res = await client.get("/schema/asyncapi.json")
    assert res.status_code == 200
    doc = res.json()
    assert doc["asyncapi"] == "3.0.0"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert {"auth", "subscribe", "unsubscribe", "publish", "ping", "event", "subscribed", "error", "pong"} <= names
    required = set(doc["components"]["schemas"]["Subscribed"]["required"])
    assert required >= {"type", "channel", "offset", "epoch", "recovered", "publications"}
