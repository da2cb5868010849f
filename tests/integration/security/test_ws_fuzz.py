"""Websocket fuzzing with Hypothesis against a real server: bad frames never drop the socket, nothing leaks.

Each example opens an authenticated socket, sends a random mix of garbage, malformed and nested JSON,
unknown types, huge ids and interleaved subscribe/unsubscribe (to allowed and forbidden channels), then
pings. Properties: the socket is still open and answers the ping; every frame it got is a protocol frame;
no event from another user's channel (published meanwhile) ever reached it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.live import live_server

pytestmark = pytest.mark.suite  # `make suites` (in .ci/run), not `make test`

KNOWN_REPLIES = {"ready", "subscribed", "unsubscribed", "published", "pong", "error", "event", "presence"}


@pytest.fixture(scope="module")
def world(database):
    import asyncio

    from tests.support.accounts import PASSWORD

    with live_server(REALTIME_COMMAND_RATE="100000") as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            users = {}
            for name in ("fuzzer", "victim"):
                email = f"{name}-{os.getpid()}@example.com"
                res = http.post(
                    "/api/v1/auth/register",
                    json={"username": f"{name}{os.getpid() % 10000}", "email": email, "password": PASSWORD},
                )
                assert res.status_code == 201, res.text
                login = http.post("/api/v1/auth/login", json={"login": email, "password": PASSWORD}).json()
                users[name] = {"id": res.json()["id"], "token": login["access_token"]}
        del asyncio
        yield server, users


def channels(me: str, other: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                f"user:{me}",
                f"user:{other}",  # forbidden
                f"timeline:home:{other}",  # forbidden
                "timeline:public",
                "hashtag:cats",
                "post:1",
                f"post:{2**63}",
                "user:" + "9" * 25,
                "sys:recheck",  # internal: never subscribable
                "",
                "nope",
            ]
        ),
        st.text(max_size=60),
    )


def frames(me: str, other: str) -> st.SearchStrategy[str]:
    ids = st.one_of(st.none(), st.integers(min_value=-(2**80), max_value=2**80), st.text(max_size=5), st.floats())
    types = st.sampled_from(["subscribe", "unsubscribe", "publish", "ping", "auth", "presence", "bogus", "", "EVENT"])
    command = st.fixed_dictionaries(
        {"type": types},
        optional={
            "id": ids,
            "channel": st.one_of(channels(me, other), st.integers(), st.none()),
            "since": st.one_of(
                st.none(),
                st.fixed_dictionaries({"offset": st.integers(-5, 2**70), "epoch": st.text(max_size=10)}),
                st.text(max_size=5),
            ),
            "event": st.text(max_size=20),
            "data": st.recursive(st.none() | st.integers() | st.text(max_size=10), lambda c: st.lists(c, max_size=3)),
            "token": st.text(max_size=40),
        },
    ).map(json.dumps)
    depth = st.integers(min_value=1, max_value=20_000)
    return st.one_of(
        command,
        st.text(max_size=300),
        st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
        depth.map(lambda n: "[" * n + "]" * n),
        depth.map(lambda n: '{"type": "subscribe", "channel": ' + "[" * n + "]" * n + "}"),
        st.just('{"type": "ping", "id": 1'),
        st.just("null"),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_bad_frames_never_drop_the_socket_or_leak(world, data):
    server, users = world
    me, other = users["fuzzer"]["id"], users["victim"]["id"]
    script = data.draw(st.lists(frames(me, other), min_size=1, max_size=12), label="frames")
    received: list[dict[str, Any]] = []
    with connect(server.ws_url, open_timeout=30, max_size=2**22) as ws:
        ws.send(json.dumps({"type": "auth", "id": 0, "token": users["fuzzer"]["token"]}))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        try:
            for frame in script:
                ws.send(frame)
            # Something happens on a channel this socket may not see.
            res = httpx.post(
                f"{server.url}/api/v1/realtime/publish",
                json={"channel": f"user:{other}", "event": "notification.created", "data": {"secret": True}},
                headers={"X-API-Key": os.environ["REALTIME_API_KEY"]},
                timeout=30,
            )
            assert res.status_code == 200, res.text
            ws.send(json.dumps({"type": "ping", "id": 424242}))
            while True:
                frame = json.loads(ws.recv(timeout=30))
                received.append(frame)
                if frame.get("type") == "pong" and frame.get("id") == 424242:
                    break
        except ConnectionClosed as exc:
            raise AssertionError(f"socket dropped ({exc.rcvd}) after {script!r}") from exc
    assert {f["type"] for f in received} <= KNOWN_REPLIES, received
    leaked = [f for f in received if f.get("channel") in (f"user:{other}", f"timeline:home:{other}", "sys:recheck")]
    assert [f for f in leaked if f["type"] in ("event", "subscribed")] == [], leaked
