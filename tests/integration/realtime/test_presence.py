"""Presence: who is online, and who is in a presence-tracked channel."""

from __future__ import annotations

import asyncio

from tests.integration.realtime.helpers import account, connect


async def wait_for(predicate) -> None:
    for _ in range(500):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_is_online_follows_authenticated_sockets(rt):
    uid, token = await account(rt, "alice")
    other, _ = await account(rt, "bob")
    assert await rt.app.state.realtime.presence.is_online(int(uid)) is False
    async with connect(rt, token):
        assert await rt.app.state.realtime.presence.is_online(int(uid)) is True
        async with connect(rt, token):
            pass
        assert await rt.app.state.realtime.presence.is_online(int(uid)) is True  # one of two sockets left: still online
        assert await rt.app.state.realtime.presence.is_online(int(other)) is False
    await wait_for(lambda: _offline(rt, int(uid)))


async def _offline(rt, user_id: int) -> bool:
    return not await rt.app.state.realtime.presence.is_online(user_id)


async def test_presence_of_a_live_channel(rt):
    async def anyone(user_id: int, arg: str) -> bool:
        return True

    rt.app.state.realtime.policy.subscribe["live"] = anyone
    try:
        a, token_a = await account(rt, "carol")
        b, token_b = await account(rt, "dave")
        async with connect(rt, token_a) as ws_a:
            await ws_a.subscribe("live:77")
            async with connect(rt, token_b) as ws_b:
                await ws_b.subscribe("live:77")
                here = await ws_a.call({"type": "presence", "channel": "live:77"})
                assert here["type"] == "presence" and here["count"] == 2
                assert here["users"] == sorted([a, b], key=int)
            await wait_for(lambda: _count(ws_a, 1))
        no_presence = None
        async with connect(rt, token_a) as ws:
            no_presence = await ws.call({"type": "presence", "channel": "timeline:public"})
        assert no_presence["type"] == "error" and no_presence["code"] == "bad_request"
    finally:
        rt.app.state.realtime.policy.subscribe.pop("live", None)


async def _count(ws, n: int) -> bool:
    reply = await ws.call({"type": "presence", "channel": "live:77"})
    return reply["count"] == n


async def test_channel_position_for_list_endpoints(rt):
    import os

    first = await rt.app.state.realtime.broker.position("timeline:home:42")
    assert first.offset == 0
    res = await rt.post(
        "/api/v1/realtime/publish",
        json={"channel": "timeline:home:42", "event": "post.created", "data": {}},
        headers={"X-API-Key": os.environ["REALTIME_API_KEY"]},
    )
    assert res.json() == {"offset": 1, "epoch": first.epoch}
    assert await rt.app.state.realtime.broker.position("timeline:home:42") == type(first)(1, first.epoch)
