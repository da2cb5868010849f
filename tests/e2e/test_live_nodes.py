"""One live room served by two real server processes on one Redis: chat, reactions and viewer counts span both."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.e2e.nodes import Node

PASSWORD = "correct horse battery"
SECRET = "e2e-live-hook-secret-0123456789"


@pytest.fixture(scope="module")
def live_nodes(services: dict[str, str], database: None) -> Iterator[tuple[Node, Node]]:
    env = {
        "DATABASE_URL": services["database_url"],
        "REDIS_URL": services["redis_url"],
        "LIVE_HOOK_SECRET": SECRET,
        "REALTIME_COMMAND_RATE": "500",
    }
    a, b = Node(env), Node(env)
    try:
        a.spawn(), b.spawn()
        a.wait_ready(), b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


async def login(http: httpx.AsyncClient, username: str) -> str:
    res = await http.post(
        "/api/v1/auth/register", json={"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    )
    assert res.status_code == 201, res.text
    tokens = (await http.post("/api/v1/auth/login", json={"login": username, "password": PASSWORD})).json()
    return str(tokens["access_token"])


class Viewer:
    """A socket on one node, with its own command ids; events read while waiting for a reply are kept."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws, self.n, self.events = ws, 0, []  # type: ignore[var-annotated]

    async def call(self, frame: dict) -> dict:
        self.n += 1
        await self.ws.send(json.dumps({**frame, "id": self.n}))
        while True:
            reply = json.loads(await self.ws.recv(decode=True))
            if reply.get("id") == self.n:
                return reply  # type: ignore[no-any-return]
            self.events.append(reply)

    async def event(self, name: str) -> dict:
        while True:
            frame = self.events.pop(0) if self.events else json.loads(await self.ws.recv(decode=True))
            if frame.get("type") == "event" and frame["event"] == name:
                return frame  # type: ignore[no-any-return]


async def viewer(node: Node, token: str, channel: str) -> tuple[Viewer, websockets.ClientConnection]:
    ws = await websockets.connect(node.ws_url, additional_headers={"Authorization": f"Bearer {token}"})
    v = Viewer(ws)
    assert json.loads(await ws.recv())["type"] == "ready"
    assert (await v.call({"type": "subscribe", "channel": channel}))["type"] == "subscribed"
    return v, ws


async def test_one_room_across_two_nodes(live_nodes, clean_db, redis_client):
    a, b = live_nodes
    async with httpx.AsyncClient(base_url=a.url) as http_a, httpx.AsyncClient(base_url=b.url) as http_b:
        owner = await login(http_a, "alice")
        auth = {"Authorization": f"Bearer {owner}"}
        assert (await http_a.post("/api/v1/creators/enroll", headers=auth)).status_code == 200
        stream = (await http_a.post("/api/v1/live", json={"title": "two nodes"}, headers=auth)).json()
        form = {"call": "publish", "name": stream["ingest"]["stream_key"], "app": "live", "clientid": "1"}
        res = await http_b.post("/api/v1/live/hooks/publish", data=form, headers={"X-Live-Hook-Secret": SECRET})
        assert res.status_code == 302
        channel = f"live:{stream['id']}"
        bob, carol = await login(http_a, "bob"), await login(http_b, "carol")

        watch, ws_w = await viewer(a, owner, channel)
        on_a, ws_a = await viewer(a, bob, channel)
        on_b, ws_b = await viewer(b, carol, channel)
        try:
            # Presence on both nodes adds up to one count (the owner is not a viewer of their own room).
            seen = (await watch.event("viewers"))["data"]["count"]
            while seen != 2:
                seen = (await watch.event("viewers"))["data"]["count"]

            assert (await on_b.call({"type": "publish", "channel": channel, "event": "chat.message",
                                     "data": {"text": "from node b"}}))["type"] == "published"  # fmt: skip
            assert (await on_a.event("chat.message"))["data"]["text"] == "from node b"

            for n in range(30):
                v = on_a if n % 2 else on_b
                frame = {"type": "publish", "channel": channel, "event": "reaction", "data": {"kind": "fire"}}
                assert (await v.call(frame))["type"] == "published"
            total, events = 0, 0
            while total < 30:
                total += (await watch.event("reactions"))["data"]["counts"]["fire"]
                events += 1
            assert total == 30 and events < 30
        finally:
            for ws in (ws_w, ws_a, ws_b):
                await ws.close()
