"""Two real server processes on one Redis and one PostgreSQL behave as one."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.e2e.nodes import Node

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def nodes(services: dict[str, str], database: None) -> Iterator[tuple[Node, Node]]:
    """Two nodes for the module (starting one costs seconds); the last test shuts node B down."""
    env = {"DATABASE_URL": services["database_url"], "REDIS_URL": services["redis_url"]}
    a, b = Node(env), Node(env)
    try:
        a.spawn(), b.spawn()
        a.wait_ready(), b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


async def login(http: httpx.AsyncClient, username: str) -> tuple[str, str]:
    res = await http.post(
        "/api/v1/auth/register", json={"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    )
    assert res.status_code == 201, res.text
    tokens = (await http.post("/api/v1/auth/login", json={"login": username, "password": PASSWORD})).json()
    return res.json()["id"], tokens["access_token"]


async def call(ws, frame: dict) -> dict:
    await ws.send(json.dumps(frame))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == frame.get("id"):
            return reply


async def test_a_socket_on_one_node_receives_what_the_other_publishes_and_resumes_there(nodes, clean_db, redis_client):
    await deliver_across_nodes_and_resume(*nodes)


async def deliver_across_nodes_and_resume(a: Node, b: Node) -> None:
    """A socket on ``a`` gets what ``b`` publishes; three missed events are recovered on ``b``."""
    key = {"X-API-Key": os.environ["REALTIME_API_KEY"]}
    async with httpx.AsyncClient(base_url=a.url) as http_a, httpx.AsyncClient(base_url=b.url) as http_b:
        uid, token = await login(http_a, "alice")
        channel = f"user:{uid}"
        async with websockets.connect(a.ws_url) as ws:
            assert (await call(ws, {"type": "auth", "id": 1, "token": token}))["type"] == "ready"
            sub = await call(ws, {"type": "subscribe", "id": 2, "channel": channel})
            assert sub["type"] == "subscribed"
            body = {"channel": channel, "event": "notification.created", "data": {"id": "from-b"}}
            res = await http_b.post("/api/v1/realtime/publish", json=body, headers=key)
            assert res.status_code == 200
            ev = json.loads(await ws.recv())
            assert ev["type"] == "event" and ev["data"] == {"id": "from-b"} and ev["offset"] == res.json()["offset"]
        for n in range(3):
            body = {"channel": channel, "event": "notification.created", "data": {"id": f"missed-{n}"}}
            assert (await http_a.post("/api/v1/realtime/publish", json=body, headers=key)).status_code == 200
        async with websockets.connect(b.ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            since = {"offset": ev["offset"], "epoch": ev["epoch"]}
            resumed = await call(ws, {"type": "subscribe", "id": 2, "channel": channel, "since": since})
            assert resumed["recovered"] is True
            assert [p["data"]["id"] for p in resumed["publications"]] == ["missed-0", "missed-1", "missed-2"]


async def test_logout_on_one_node_closes_the_sessions_socket_on_the_other_with_4009(nodes, clean_db, redis_client):
    await logout_on_one_node_closes_socket_on_the_other(*nodes)


async def logout_on_one_node_closes_socket_on_the_other(a: Node, b: Node) -> None:
    async with httpx.AsyncClient(base_url=a.url) as http_a, httpx.AsyncClient(base_url=b.url) as http_b:
        _, token = await login(http_a, "carol")
        async with websockets.connect(a.ws_url) as ws:
            assert (await call(ws, {"type": "auth", "id": 1, "token": token}))["type"] == "ready"
            res = await http_b.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert res.status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(30):  # a lost revocation must fail the test, not hang it
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009


async def test_frames_over_64_kib_close_1009_and_shutdown_closes_1001(nodes, clean_db, redis_client):
    """Runs last in this module: it stops node B."""
    a, b = nodes
    async with httpx.AsyncClient(base_url=a.url) as http:
        _, token = await login(http, "bob")
    async with websockets.connect(a.ws_url) as ws:
        await call(ws, {"type": "auth", "id": 1, "token": token})
        await ws.send(json.dumps({"type": "ping", "id": 2, "pad": "x" * (65 * 1024)}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    async with websockets.connect(b.ws_url) as ws:
        await call(ws, {"type": "auth", "id": 1, "token": token})
        b.terminate()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
