"""The websocket gateway as a client sees it, on the memory and the Redis broker."""

from __future__ import annotations

import json
import os
import time

import jwt
import pytest

from channels.gateway import Outgoing
from tests.integration.realtime.helpers import account, connect, registered


async def publish(client, channel, event="post.created", data=None):
    res = await client.post(
        "/api/v1/realtime/publish",
        json={"channel": channel, "event": event, "data": data if data is not None else {"n": 1}},
        headers={"X-API-Key": os.environ["REALTIME_API_KEY"]},
    )
    assert res.status_code == 200, res.text
    return res.json()


def token_like(client, token: str, **changes) -> str:
    """A token for the same user and session, signed with the key of ``client``'s app, with changed claims."""
    from server.security import make_access_token
    from tests.support.settings import of

    claims = jwt.decode(token, options={"verify_signature": False})
    sec = of(client).security
    ttl = changes.get("ttl", 60)
    new, _ = make_access_token(
        user_id=int(claims["sub"]),
        session_id=int(claims["sid"]),
        role=claims["role"],
        key=sec.secret_key,
        issuer=sec.jwt_issuer,
        audience=sec.jwt_audience,
        ttl=ttl,
        now=changes.get("now"),
    )
    return new


async def test_auth_subscribe_receive_and_resume(rt):
    uid, token = await registered(rt, "alice")
    async with connect(rt, token) as ws:
        sub = await ws.subscribe(f"user:{uid}")
        assert sub["type"] == "subscribed" and sub["recovered"] is False and sub["publications"] == []
        first = await publish(rt, f"user:{uid}", "notification.created", {"id": "1"})
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
        await publish(rt, f"user:{uid}", "notification.created", {"id": str(n)})
    async with connect(rt, token) as ws:
        sub = await ws.subscribe(f"user:{uid}", since={"offset": ev["offset"], "epoch": ev["epoch"]})
        assert sub["recovered"] is True
        assert [p["data"]["id"] for p in sub["publications"]] == ["2", "3", "4"]
        assert [p["offset"] for p in sub["publications"]] == [ev["offset"] + i for i in (1, 2, 3)]
        stale = await ws.subscribe(f"user:{uid}", since={"offset": 1, "epoch": "not-the-epoch"})
        assert stale["recovered"] is False and stale["publications"] == []
        assert stale["offset"] == ev["offset"] + 3 and stale["epoch"] == ev["epoch"]
        # live again after the resume, with no duplicate
        await publish(rt, f"user:{uid}", "notification.created", {"id": "5"})
        assert (await ws.event())["data"] == {"id": "5"}


async def test_authorization_header_on_the_handshake_authenticates(rt):
    uid, token = await account(rt, "bob")
    async with connect(rt, headers={"Authorization": f"Bearer {token}"}) as ws:
        ready = await ws.recv()
        assert ready["type"] == "ready" and ready["user_id"] == uid
        assert (await ws.subscribe(f"timeline:home:{uid}"))["type"] == "subscribed"


@pytest.mark.parametrize("redis", [False, True], ids=["memory", "redis"])
async def test_frames_before_auth_are_refused_and_silence_times_out(make_client, redis):
    async with make_client(redis=redis, auth_timeout=0.5) as client, connect(client) as ws:
        assert await ws.call({"type": "ping"}) == {"type": "pong", "id": 1}
        refused = await ws.call({"type": "subscribe", "channel": "timeline:public"})
        assert refused["type"] == "error" and refused["code"] == "unauthorized"
        assert await ws.closed() == 4001  # the auth timeout (0.5 s here)


async def test_bad_and_expired_tokens_close_with_4001(rt):
    _, token = await account(rt, "carol")
    for bad in ("not-a-jwt", token[:-4] + "AAAA", token_like(rt, token, now=time.time() - 3600)):
        async with connect(rt) as ws:
            err = await ws.call({"type": "auth", "token": bad})
            assert err["type"] == "error" and err["code"] == "unauthorized"
            assert await ws.closed() == 4001


async def test_reauth_with_a_fresh_token_keeps_the_socket(rt):
    uid, token = await account(rt, "dave")
    async with connect(rt, token) as ws:
        await ws.subscribe(f"user:{uid}")
        again = await ws.auth(token_like(rt, token))
        assert again["type"] == "ready" and again["user_id"] == uid
        bad = await ws.call({"type": "auth", "token": "garbage"})
        assert bad["code"] == "unauthorized"
        await publish(rt, f"user:{uid}", "notification.created", {"id": "x"})
        assert (await ws.event())["data"] == {"id": "x"}


async def test_another_users_token_cannot_take_over_a_socket(rt):
    _, token = await account(rt, "erin")
    _, other = await account(rt, "frank")
    async with connect(rt, token) as ws:
        err = await ws.auth(other)
        assert err["type"] == "error" and err["code"] == "forbidden"


async def test_expired_token_closes_after_the_grace(make_client):
    async with make_client(redis=False, expiry_grace=0.2) as client:
        _, token = await account(client, "gina")
        async with connect(client, token_like(client, token, ttl=2)) as ws:
            assert await ws.closed() == 4001


async def test_logout_closes_the_sessions_sockets_with_4009(rt):
    uid, token = await account(rt, "hank")
    _, other_token = await account(rt, "ivy")
    async with connect(rt, token) as ws, connect(rt, other_token) as other:
        await ws.subscribe(f"user:{uid}")
        res = await rt.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 204
        assert await ws.closed() == 4009
        assert (await other.call({"type": "ping"}))["type"] == "pong"


BAD_FRAMES = [
    "not json",
    "[1, 2]",
    '{"no": "type"}',
    '{"type": "launch", "id": 3}',
    '{"type": "subscribe", "id": 3}',
    '{"type": "subscribe", "id": 3, "channel": 5}',
    '{"type": "subscribe", "id": 3, "channel": "timeline:public", "since": {"offset": "x"}}',
    '{"type": "ping", "id": "seven"}',
    '{"type": "ping", "id": 3, "extra": true}',
    '{"type": "subscribe", "id": 3, "channel": "nope:1"}',
    '{"type": "subscribe", "id": 3, "channel": "user:abc"}',
    '{"type": "subscribe", "id": 3, "channel": "hashtag:Cats"}',
    '{"type": "subscribe", "id": 3, "channel": "timeline:public:x"}',
    '{"type": "unsubscribe", "id": 3}',
    '{"type": "publish", "id": 3, "channel": "timeline:public"}',
    '{"type": "publish", "id": 3, "channel": "timeline:public", "event": "Bad Name", "data": {}}',
]


async def test_every_bad_frame_gets_an_error_and_the_socket_lives(rt):
    _, token = await account(rt, "judy")
    async with connect(rt, token) as ws:
        for frame in BAD_FRAMES:
            await ws.ws.send_text(frame)
            err = await ws.recv()
            assert err["type"] == "error" and err["code"] == "bad_request" and err["message"], frame
            if '"id": 3' in frame:
                assert err["id"] == 3, frame
        await ws.ws.send_bytes(b'{"type":"ping"}')
        assert (await ws.recv())["code"] == "bad_request"
        assert (await ws.call({"type": "ping"}))["type"] == "pong"


async def test_subscribe_authorization_for_every_channel_kind(rt):

    uid, token = await account(rt, "kate")
    other, _ = await account(rt, "liam")
    async with connect(rt, token) as ws:
        for channel in (f"user:{uid}", f"timeline:home:{uid}", "timeline:public", "hashtag:cats"):
            assert (await ws.subscribe(channel))["type"] == "subscribed", channel
        for channel in (f"user:{other}", f"timeline:home:{other}", "post:123", "live:123"):
            err = await ws.subscribe(channel)
            assert err["type"] == "error" and err["code"] == "forbidden", channel

        async def even_posts(user_id: int, arg: str) -> bool:
            return int(arg) % 2 == 0

        policy = rt.app.state.realtime.policy
        policy.subscribe["post"] = even_posts
        held = await ws.subscribe("post:124")
        assert held["type"] == "subscribed"
        assert (await ws.subscribe("post:125"))["code"] == "forbidden"

        async def nobody(user_id: int, arg: str) -> bool:
            return False  # e.g. the post became private, or its author blocked the user

        policy.subscribe["post"] = nobody
        resume = await ws.subscribe("post:124", since={"offset": held["offset"], "epoch": held["epoch"]})
        assert resume["type"] == "error" and resume["code"] == "forbidden"  # re-checked on resume
        await publish(rt, "post:124", "post.stats", {"id": "124"})
        await publish(rt, f"user:{uid}", "notification.created", {"id": "next"})
        assert (await ws.event())["channel"] == f"user:{uid}"  # nothing more from post:124


async def test_client_publish_is_off_until_a_kind_opts_in(rt):

    _, token = await account(rt, "mia")
    _, watcher_token = await account(rt, "ned")
    async with connect(rt, token) as ws, connect(rt, watcher_token) as watcher:
        for channel in ("timeline:public", "hashtag:cats", "live:5"):
            err = await ws.call({"type": "publish", "channel": channel, "event": "chat.message", "data": {"t": "hi"}})
            assert err["type"] == "error" and err["code"] == "forbidden"

        async def anyone(user_id: int, arg: str) -> bool:
            return True

        async def as_is(user_id: int, arg: str, event: str, data: bytes) -> Outgoing:
            return Outgoing(event, data)

        policy = rt.app.state.realtime.policy
        policy.subscribe["live"] = anyone
        policy.publishers["live"] = as_is
        await watcher.subscribe("live:5")
        ok = await ws.call({"type": "publish", "channel": "live:5", "event": "chat.message", "data": {"t": "hi"}})
        assert ok["type"] == "published" and ok["offset"] == 1
        ev = await watcher.event()
        assert ev["channel"] == "live:5" and ev["data"] == {"t": "hi"}


async def test_unsubscribe_stops_delivery(rt):
    uid, token = await account(rt, "olga")
    async with connect(rt, token) as ws:
        await ws.subscribe("timeline:public")
        await ws.subscribe(f"user:{uid}")
        assert (await ws.call({"type": "unsubscribe", "channel": "timeline:public"}))["type"] == "unsubscribed"
        await publish(rt, "timeline:public")
        await publish(rt, f"user:{uid}", "notification.created", {"id": "after"})
        ev = await ws.event()  # the public event never arrives: the next one is the user's
        assert ev["channel"] == f"user:{uid}"


async def test_subscription_limit(make_client):
    async with make_client(redis=False, max_subscriptions=2) as client:
        _, token = await account(client, "pete")
        async with connect(client, token) as ws:
            assert (await ws.subscribe("hashtag:a"))["type"] == "subscribed"
            assert (await ws.subscribe("hashtag:b"))["type"] == "subscribed"
            assert (await ws.subscribe("hashtag:c"))["code"] == "too_many_subscriptions"
            assert (await ws.subscribe("hashtag:a"))["type"] == "subscribed"  # a resume, not a new one


async def test_command_flood_is_refused_then_closed_4029(make_client):
    async with make_client(redis=False, command_rate=1.0) as client:
        _, token = await account(client, "quinn")
        async with connect(client, token) as ws:
            for _ in range(40):
                await ws.send({"type": "ping"})
            codes = []
            try:
                while True:
                    codes.append((await ws.recv())["type"])
            except Exception as exc:
                assert getattr(exc, "code", None) == 4029
            assert "pong" in codes and codes.count("error") >= 1


async def test_oversized_frame_closes_1009(rt):
    _, token = await account(rt, "rosa")
    async with connect(rt, token) as ws:
        await ws.send({"type": "ping", "pad": "x" * (70 * 1024)})
        assert await ws.closed() == 1009


async def test_origin_allow_list(make_client, settings):
    from tests.support.settings import derive

    # What ALLOWED_ORIGINS=https://app.example sets (CORS follows it when CORS_ORIGINS is unset).
    origins = ("https://app.example",)
    allowed = derive(settings, **{"http.allowed_origins": origins, "http.cors_origins": origins})
    async with make_client(redis=False, base=allowed) as client:
        _, token = await account(client, "sam")
        async with connect(client, headers={"Origin": "https://evil.example"}) as ws:
            assert await ws.closed() == 4003
        async with connect(client, token, headers={"Origin": "https://app.example"}) as ws:
            assert (await ws.call({"type": "ping"}))["type"] == "pong"
        async with connect(client, token) as ws:  # not a browser: no Origin header
            assert (await ws.call({"type": "ping"}))["type"] == "pong"


async def test_shutdown_closes_sockets_with_1001(make_client):
    async with make_client(redis=False) as client:
        _, token = await account(client, "tina")
        async with connect(client, token) as ws:
            await ws.subscribe("timeline:public")
            await client.app.state.realtime.gateway.close_all()
            assert await ws.closed() == 1001


async def test_publish_frames_are_json_text_with_the_contract_shape(rt):
    uid, token = await account(rt, "uma")
    async with connect(rt, token) as ws:
        sub = await ws.subscribe(f"timeline:home:{uid}")
        assert set(sub) == {"type", "id", "channel", "offset", "epoch", "recovered", "publications"}
        await publish(rt, f"timeline:home:{uid}", "post.deleted", {"id": "42"})
        raw = await ws.ws.receive_text(timeout=10)
        assert json.loads(raw)["data"] == {"id": "42"} and json.loads(raw)["offset"] == sub["offset"] + 1


async def test_a_failing_policy_answers_unavailable_and_the_socket_lives(rt):

    async def broken(user_id: int, arg: str) -> bool:
        raise ConnectionError("database went away")

    _, token = await account(rt, "vera")
    rt.app.state.realtime.policy.subscribe["post"] = broken
    async with connect(rt, token) as ws:
        err = await ws.subscribe("post:1")
        assert err["type"] == "error" and err["code"] == "unavailable"
        assert (await ws.call({"type": "ping"}))["type"] == "pong"
