"""Finding 10: deeply nested JSON is bad input (400 / an `error` frame), never a 500 or a dropped socket."""

from __future__ import annotations

import json

from tests.integration.realtime.helpers import connect, registered

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_FRAME = "[" * 20_000 + "]" * 20_000  # under the 64 KiB frame limit, far past any decoder depth


async def test_deeply_nested_json_body_is_a_400_problem(client):
    for path in ("/api/v1/auth/login", "/api/v1/auth/register"):
        res = await client.post(path, content=DEEP.encode(), headers={"content-type": "application/json"})
        assert res.status_code == 400, res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        assert res.json()["code"] == "validation_error"
    nested_object = '{"login": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + ', "password": "x"}'
    res = await client.post("/api/v1/auth/login", content=nested_object, headers={"content-type": "application/json"})
    assert res.status_code == 400, res.text


async def test_deeply_nested_frame_gets_an_error_frame_before_and_after_auth(client):
    uid, token = await registered(client, "alice")
    async with connect(client) as ws:
        await ws.ws.send_text(DEEP_FRAME)
        reply = await ws.recv()
        assert reply["type"] == "error", reply
        pong = await ws.call({"type": "ping"})
        assert pong["type"] == "pong"
        assert (await ws.auth(token))["type"] == "ready"
        await ws.ws.send_text('{"type": "subscribe", "id": 7, "channel": ' + "[" * 20_000 + "]" * 20_000 + "}")
        reply = await ws.recv()
        assert reply["type"] == "error", reply
        sub = await ws.subscribe(f"user:{uid}")
        assert sub["type"] == "subscribed"
        assert json.loads(json.dumps(sub))["channel"] == f"user:{uid}"
