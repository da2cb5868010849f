"""Reactions coalesced into ``reactions {counts}``, and viewer counts from sockets and HLS heartbeats."""

from __future__ import annotations

import pytest

from tests.integration.live.helpers import API, creator, go_live, new_stream
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup


def react(sid: str, kind: str) -> dict:
    return {"type": "publish", "channel": f"live:{sid}", "event": "reaction", "data": {"kind": kind}}


async def next_event(ws, event: str) -> dict:
    while True:
        frame = await ws.event()
        if frame["event"] == event:
            return frame


@pytest.mark.parametrize("redis", [True, False], ids=["redis", "memory"])
async def test_reactions_arrive_summed_never_one_event_each(make_live, redis):
    async with make_live(redis=redis, realtime={"command_rate": 500.0}) as client:
        alice = await creator(client, "alice")
        bob, carol = await signup(client, "bob"), await signup(client, "carol")
        stream = await go_live(client, alice)
        sid = stream["id"]
        async with (
            connect(client, bob.token) as bob_ws,
            connect(client, carol.token) as carol_ws,
            connect(client, alice.token) as watcher,
        ):
            await watcher.subscribe(f"live:{sid}")
            for n in range(40):
                ws = bob_ws if n % 2 else carol_ws
                reply = await ws.call(react(sid, "fire" if n < 30 else "clap"))
                assert reply["type"] == "published" and "offset" not in reply
            totals: dict[str, int] = {}
            events = 0
            while sum(totals.values()) < 40:
                counts = (await next_event(watcher, "reactions"))["data"]["counts"]
                events += 1
                for kind, n in counts.items():
                    totals[kind] = totals.get(kind, 0) + n
            assert totals == {"fire": 30, "clap": 10}
            assert events < 40  # coalesced: at most one event per 250 ms, not one per reaction


async def test_a_reaction_outside_the_set_is_an_error(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    stream = await go_live(live, alice)
    async with connect(live, bob.token) as ws:
        for data in ({"kind": "poop"}, {"kind": ""}, {}, {"kind": 1}, "fire"):
            err = await ws.call(
                {"type": "publish", "channel": f"live:{stream['id']}", "event": "reaction", "data": data}
            )
            assert err["type"] == "error" and err["code"] == "bad_request", data
        assert (await ws.call(react(stream["id"], "love")))["type"] == "published"


async def test_viewers_count_sockets_and_hls_players_once_each(live):
    alice = await creator(live, "alice")
    bob, carol = await signup(live, "bob"), await signup(live, "carol")
    stream = await go_live(live, alice)
    sid = stream["id"]
    async with connect(live, alice.token) as owner_ws, connect(live, bob.token) as bob_ws:
        await owner_ws.subscribe(f"live:{sid}")  # the owner watching their own room is not a viewer
        await bob_ws.subscribe(f"live:{sid}")
        assert (await next_event(owner_ws, "viewers"))["data"] == {"count": 1}
        async with connect(live, carol.token) as carol_ws:
            await carol_ws.subscribe(f"live:{sid}")
            assert (await next_event(owner_ws, "viewers"))["data"] == {"count": 2}
            # An anonymous HLS player counts; bob's player does not count bob twice.
            beat = await live.post(f"{API}/live/{sid}/heartbeat", json={"session_id": "player-0001"})
            assert beat.status_code == 204
            assert (await bob.post(f"{API}/live/{sid}/heartbeat", json={"session_id": "bobs-tv-01"})).status_code == 204
            assert (await next_event(owner_ws, "viewers"))["data"] == {"count": 3}
            seen = (await live.get(f"{API}/live/{sid}")).json()
            assert seen["viewer_count"] == 3 and seen["peak_viewers"] == 3
        assert (await next_event(owner_ws, "viewers"))["data"] == {"count": 2}
    assert (await live.get(f"{API}/live/{sid}")).json()["peak_viewers"] == 3


async def test_heartbeats_need_a_live_stream_and_a_session_id(live):
    alice = await creator(live, "alice")
    idle = await new_stream(alice)
    res = await live.post(f"{API}/live/{idle['id']}/heartbeat", json={"session_id": "player-0001"})
    assert res.status_code == 409
    private = await go_live(live, alice, visibility="private")
    res = await live.post(f"{API}/live/{private['id']}/heartbeat", json={"session_id": "player-0001"})
    assert res.status_code == 404
    stream = await go_live(live, alice)
    for body in ({}, {"session_id": "short"}, {"session_id": "bad id with spaces"}):
        assert (await live.post(f"{API}/live/{stream['id']}/heartbeat", json=body)).status_code == 422


async def test_a_ban_or_block_stops_counting_reactions_at_once(live):
    """Reactions are allowed from a per-node cache: a ban, or a block by the streamer, made on this node ends
    it at once. Before, a block left a viewer's reactions counted until the cache's 2 s ran out."""
    alice = await creator(live, "alice")
    bob, carol, dave = await signup(live, "bob"), await signup(live, "carol"), await signup(live, "dave")
    sid = (await go_live(live, alice))["id"]
    async with (
        connect(live, bob.token) as bob_ws,
        connect(live, carol.token) as carol_ws,
        connect(live, dave.token) as dave_ws,
        connect(live, alice.token) as watcher,
    ):
        await watcher.subscribe(f"live:{sid}")
        for ws in (bob_ws, carol_ws):  # allowed, and remembered as allowed
            assert (await ws.call(react(sid, "fire")))["type"] == "published"
        assert (await alice.post(f"{API}/live/{sid}/bans", json={"username": "bob"})).status_code == 201
        assert (await alice.post(f"{API}/users/carol/block")).status_code in (200, 204)
        for ws in (bob_ws, carol_ws):
            reply = await ws.call(react(sid, "clap"))
            assert reply["type"] == "error" and reply["code"] == "forbidden", reply
        # dave's reaction is counted after theirs would have been: once it shows, theirs never will.
        assert (await dave_ws.call(react(sid, "love")))["type"] == "published"
        totals: dict[str, int] = {}
        while "love" not in totals:
            for kind, n in (await next_event(watcher, "reactions"))["data"]["counts"].items():
                totals[kind] = totals.get(kind, 0) + n
        assert totals == {"fire": 2, "love": 1}
