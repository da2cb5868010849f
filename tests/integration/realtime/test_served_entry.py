"""The served entry point (``server.asgi``): websockets on /api/v1/ws go straight to the gateway."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from channels.gateway import serve_directly
from tests.integration.realtime.helpers import account, connect
from tests.support.asgi import in_process_client


@pytest.fixture
async def served(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``app`` wrapped the way ``server.asgi`` serves it (held in one task, as ``client`` is)."""
    wrapped = serve_directly(app, "/api/v1/ws", lambda: app.state.realtime and app.state.realtime.gateway)
    async with in_process_client(wrapped) as client:
        client.sf_app = app  # type: ignore[attr-defined]  # the Litestar app behind the wrapper (its settings)
        yield client


async def test_the_direct_websocket_path_speaks_the_whole_protocol(served):
    uid, token = await account(served, "dora")
    async with connect(served, token) as ws:
        assert (await ws.call({"type": "ping"}))["type"] == "pong"
        await ws.send({"type": "nonsense"})
        bad = await ws.recv()
        assert bad["type"] == "error" and bad["code"] == "bad_request"
        sub = await ws.subscribe(f"user:{uid}")
        res = await served.post(
            "/api/v1/realtime/publish",
            json={"channel": f"user:{uid}", "event": "notification.created", "data": {"id": "7"}},
            headers={"X-API-Key": os.environ["REALTIME_API_KEY"]},
        )
        assert res.status_code == 200  # HTTP still goes through the app
        ev = await ws.event()
        assert ev["data"] == {"id": "7"} and ev["offset"] == sub["offset"] + 1


async def test_the_direct_websocket_path_still_refuses_bad_tokens(served):
    async with connect(served, headers={"Authorization": "Bearer not-a-token"}) as ws:
        assert await ws.closed() == 4001
