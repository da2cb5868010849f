"""The live room on ``live:{id}``: who gets in, chat and its rules, moderation, history."""

from __future__ import annotations

from tests.integration.live.helpers import API, creator, go_live, hook, new_stream
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup


def chat(text: object) -> dict:
    return {"type": "publish", "channel": "", "event": "chat.message", "data": {"text": text}}


async def say(ws, sid: str, text: object) -> dict:
    """Publish a chat line; the reply (``published`` or ``error``)."""
    return await ws.call({**chat(text), "channel": f"live:{sid}"})


async def next_event(ws, event: str) -> dict:
    while True:
        frame = await ws.event()
        if frame["event"] == event:
            return frame


async def test_a_viewers_chat_reaches_another_viewer_and_stays_in_history(live):
    alice = await creator(live, "alice")
    bob, carol = await signup(live, "bob"), await signup(live, "carol")
    stream = await go_live(live, alice)
    sid = stream["id"]
    async with connect(live, bob.token) as bob_ws, connect(live, carol.token) as carol_ws:
        sub = await carol_ws.subscribe(f"live:{sid}")
        assert sub["type"] == "subscribed"
        reply = await say(bob_ws, sid, "hello room 👋")
        assert reply["type"] == "published" and reply["channel"] == f"live:{sid}"
        got = await next_event(carol_ws, "chat.message")
        data = got["data"]
        assert data["text"] == "hello room 👋" and data["kind"] == "chat" and data["user"]["username"] == "bob"
        assert set(data["user"]) == {"id", "username", "display_name", "avatar_url"}

        # A late joiner resumes from the channel's history...
        since = {"offset": sub["offset"], "epoch": sub["epoch"]}
        async with connect(live, alice.token) as late:
            resumed = await late.subscribe(f"live:{sid}", since=since)
            assert resumed["recovered"] is True
            assert [p["data"]["text"] for p in resumed["publications"] if p["event"] == "chat.message"] == [
                "hello room 👋"
            ]
    # ...and older messages come from the database.
    for n in range(3):
        async with connect(live, bob.token) as ws:
            assert (await say(ws, sid, f"line {n}"))["type"] == "published"
    page = (await carol.get(f"{API}/live/{sid}/chat", params={"limit": 2})).json()
    assert [m["text"] for m in page["items"]] == ["line 2", "line 1"]
    older = (await carol.get(f"{API}/live/{sid}/chat", params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [m["text"] for m in older["items"]] == ["line 0", "hello room 👋"]


async def test_bad_chat_gets_an_error_frame_and_the_socket_stays(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    stream = await go_live(live, alice)
    sid = stream["id"]
    async with connect(live, bob.token) as ws:
        for text in ("x" * 501, "", "   \n ", 42, None):
            err = await say(ws, sid, text)
            assert err["type"] == "error" and err["code"] == "bad_request", text
        err = await ws.call(
            {"type": "publish", "channel": f"live:{sid}", "event": "chat.message", "data": {"txt": "a"}}
        )
        assert err["code"] == "bad_request"
        err = await ws.call({"type": "publish", "channel": f"live:{sid}", "event": "live.ended", "data": {}})
        assert err["code"] == "forbidden"  # server events cannot be forged by clients
        err = await ws.call(
            {"type": "publish", "channel": "live:999999", "event": "chat.message", "data": {"text": "a"}}
        )
        assert err["code"] == "forbidden"
        assert (await say(ws, sid, "x" * 500))["type"] == "published"  # the limit itself is fine
        assert (await ws.call({"type": "ping"}))["type"] == "pong"
    assert len((await bob.get(f"{API}/live/{sid}/chat")).json()["items"]) == 1


async def test_who_may_enter_the_room(live):
    alice = await creator(live, "alice")
    bob, carol = await signup(live, "bob"), await signup(live, "carol")
    await bob.follow(alice)
    private = await new_stream(alice, visibility="private")
    friends = await new_stream(alice, visibility="followers")
    public = await new_stream(alice)
    async with connect(live, bob.token) as bob_ws, connect(live, carol.token) as carol_ws:
        err = await bob_ws.subscribe(f"live:{private['id']}")
        assert err["type"] == "error" and err["code"] == "forbidden"
        assert (await bob_ws.subscribe(f"live:{friends['id']}"))["type"] == "subscribed"
        assert (await carol_ws.subscribe(f"live:{friends['id']}"))["code"] == "forbidden"
        assert (await carol_ws.subscribe(f"live:{public['id']}"))["type"] == "subscribed"
        err = await carol_ws.call({**chat("hi"), "channel": f"live:{friends['id']}"})
        assert err["code"] == "forbidden"  # publishing is judged on its own, not only on subscribing
        await alice.post(f"{API}/users/carol/block")
        assert (await carol_ws.subscribe(f"live:{public['id']}"))["code"] == "forbidden"
        assert (await say(carol_ws, public["id"], "let me in"))["code"] == "forbidden"
    async with connect(live, alice.token) as owner_ws:
        assert (await owner_ws.subscribe(f"live:{private['id']}"))["type"] == "subscribed"


async def test_bans_and_timeouts(live):
    import asyncio

    alice = await creator(live, "alice")
    bob, carol = await signup(live, "bob"), await signup(live, "carol")
    mod = await signup(live, "mod", role="moderator")
    stream = await go_live(live, alice)
    sid = stream["id"]
    async with connect(live, bob.token) as ws:
        assert (await say(ws, sid, "before"))["type"] == "published"
        assert (await carol.post(f"{API}/live/{sid}/bans", json={"username": "bob"})).status_code == 403
        res = await alice.post(f"{API}/live/{sid}/bans", json={"username": "bob"})
        assert res.status_code == 201 and res.json()["until"] is None and res.json()["user"]["username"] == "bob"
        err = await say(ws, sid, "after")
        assert err["type"] == "error" and err["code"] == "forbidden"
        react = await ws.call(
            {"type": "publish", "channel": f"live:{sid}", "event": "reaction", "data": {"kind": "fire"}}
        )
        assert react["code"] == "forbidden"
        assert (await ws.call({"type": "ping"}))["type"] == "pong"

        assert (await alice.delete(f"{API}/live/{sid}/bans/bob")).status_code == 204
        assert (await say(ws, sid, "unbanned"))["type"] == "published"

        res = await mod.post(f"{API}/live/{sid}/bans", json={"username": "bob", "seconds": 1})
        assert res.status_code == 201 and res.json()["until"] is not None
        assert (await say(ws, sid, "timed out"))["code"] == "forbidden"
        await asyncio.sleep(1.2)
        assert (await say(ws, sid, "back"))["type"] == "published"
    for body in ({"username": "alice"}, {"username": "mod"}, {"username": "bob", "seconds": 0}):
        assert (await alice.post(f"{API}/live/{sid}/bans", json=body)).status_code == 422, body
    assert (await alice.post(f"{API}/live/{sid}/bans", json={"username": "nobody"})).status_code == 404
    texts = [m["text"] for m in (await bob.get(f"{API}/live/{sid}/chat")).json()["items"]]
    assert texts == ["back", "unbanned", "before"]


async def test_chat_rate_limit_errors_then_4029_past_the_socket_limit(make_live):
    from server.settings import Limit

    async with make_live(realtime={"command_rate": 5.0}, chat_limit=Limit(3, 60)) as client:
        alice = await creator(client, "alice")
        bob = await signup(client, "bob")
        stream = await go_live(client, alice)
        sid = stream["id"]
        async with connect(client, bob.token) as ws:
            replies = [await say(ws, sid, f"m{n}") for n in range(5)]
            assert [r["type"] for r in replies] == ["published"] * 3 + ["error"] * 2
            assert {r["code"] for r in replies[3:]} == {"rate_limited"}
            assert (await ws.call({"type": "ping"}))["type"] == "pong"  # still open
            for n in range(60):  # far past the socket's own command rate
                await ws.send({**chat("flood"), "channel": f"live:{sid}", "id": 100 + n})
            assert await ws.closed() == 4029
        texts = [m["text"] for m in (await bob.get(f"{API}/live/{sid}/chat")).json()["items"]]
        assert texts == ["m2", "m1", "m0"]


async def test_slow_mode_spaces_each_users_messages_but_not_the_owners(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    stream = await go_live(live, alice)
    sid = stream["id"]
    assert (await alice.patch(f"{API}/live/{sid}", json={"slow_mode_seconds": 60})).status_code == 200
    async with connect(live, bob.token) as bob_ws, connect(live, alice.token) as alice_ws:
        assert (await say(bob_ws, sid, "one"))["type"] == "published"
        err = await say(bob_ws, sid, "two")
        assert err["type"] == "error" and err["code"] == "rate_limited" and "slow mode" in err["message"]
        assert (await say(alice_ws, sid, "owner 1"))["type"] == "published"
        assert (await say(alice_ws, sid, "owner 2"))["type"] == "published"
    assert (await alice.patch(f"{API}/live/{sid}", json={"slow_mode_seconds": 0})).json()["slow_mode_seconds"] == 0


async def test_owner_and_moderators_delete_chat_everyone_sees_it_go(live):
    alice = await creator(live, "alice")
    bob, carol = await signup(live, "bob"), await signup(live, "carol")
    stream = await go_live(live, alice)
    sid = stream["id"]
    async with connect(live, bob.token) as bob_ws, connect(live, carol.token) as carol_ws:
        await carol_ws.subscribe(f"live:{sid}")
        await say(bob_ws, sid, "spam")
        message = (await next_event(carol_ws, "chat.message"))["data"]
        assert (await carol.delete(f"{API}/live/{sid}/chat/{message['id']}")).status_code == 403
        assert (await alice.delete(f"{API}/live/{sid}/chat/{message['id']}")).status_code == 204
        gone = await next_event(carol_ws, "chat.deleted")
        assert gone["data"] == {"id": message["id"]}
    assert (await alice.delete(f"{API}/live/{sid}/chat/{message['id']}")).status_code == 404
    assert (await alice.delete(f"{API}/live/{sid}/chat/123")).status_code == 404
    assert (await carol.get(f"{API}/live/{sid}/chat")).json()["items"] == []


async def test_an_ended_stream_takes_no_more_chat(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    stream = await go_live(live, alice)
    sid = stream["id"]
    await hook(live, "publish_done", sid)
    async with connect(live, bob.token) as ws:
        assert (await ws.subscribe(f"live:{sid}"))["type"] == "subscribed"  # still readable
        assert (await say(ws, sid, "anyone?"))["code"] == "forbidden"
