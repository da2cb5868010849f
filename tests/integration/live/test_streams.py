"""Streams over HTTP: who may create them, who sees the key, visibility, editing and listing."""

from __future__ import annotations

from tests.integration.live.helpers import API, creator, go_live, new_stream
from tests.integration.social.helpers import signup


async def test_a_creator_creates_a_stream_and_only_they_see_its_ingest(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    stream = await new_stream(alice, "First show")
    assert stream["status"] == "idle" and stream["owner"]["username"] == "alice"
    assert stream["ingest"]["rtmp_url"].startswith("rtmp://")
    key = stream["ingest"]["stream_key"]
    assert key.startswith("sk_") and len(key) > 30
    assert stream["playback"] is None and stream["viewer_count"] == 0

    mine = (await alice.get(f"{API}/live/{stream['id']}")).json()
    assert mine["ingest"]["stream_key"] is None  # stored hashed: shown once, rotate for a new one
    theirs = (await bob.get(f"{API}/live/{stream['id']}")).json()
    assert "ingest" not in theirs and theirs["title"] == "First show"
    anonymous = await live.get(f"{API}/live/{stream['id']}")
    assert anonymous.status_code == 200 and "ingest" not in anonymous.json()
    assert key not in anonymous.text


async def test_only_creators_and_admins_go_live(live):
    bob = await signup(live, "bob")
    res = await bob.post(f"{API}/live", json={"title": "nope", "visibility": "public"})
    assert res.status_code == 403 and res.json()["code"] == "forbidden"
    assert (await live.post(f"{API}/live", json={"title": "x"})).status_code == 401
    admin = await signup(live, "root", role="admin")
    assert (await admin.post(f"{API}/live", json={"title": "ops"})).status_code == 201


async def test_bad_stream_input_is_a_422(live):
    alice = await creator(live, "alice")
    for body in ({"title": ""}, {"title": "x" * 201}, {"title": "ok", "visibility": "everyone"}, {}):
        res = await alice.post(f"{API}/live", json=body)
        assert res.status_code == 422 and res.json()["code"] == "validation_error", body
    stream = await new_stream(alice)
    res = await alice.patch(f"{API}/live/{stream['id']}", json={"slow_mode_seconds": 3601})
    assert res.status_code == 422
    assert (await alice.get(f"{API}/live?limit=0")).status_code == 422
    assert (await alice.get(f"{API}/live?limit=101")).status_code == 422
    assert (await alice.get(f"{API}/live/not-an-id")).status_code == 404


async def test_private_and_followers_streams_are_hidden_from_others(live):
    alice = await creator(live, "alice")
    bob, carol = await signup(live, "bob"), await signup(live, "carol")
    await bob.follow(alice)
    private = await new_stream(alice, "secret", "private")
    friends = await new_stream(alice, "friends", "followers")
    assert (await bob.get(f"{API}/live/{private['id']}")).status_code == 404
    assert (await bob.get(f"{API}/live/{friends['id']}")).status_code == 200
    assert (await carol.get(f"{API}/live/{friends['id']}")).status_code == 404
    assert (await live.get(f"{API}/live/{friends['id']}")).status_code == 404
    await alice.post(f"{API}/users/bob/block")
    assert (await bob.get(f"{API}/live/{friends['id']}")).status_code == 404


async def test_owner_edits_title_and_slow_mode_others_cannot(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    stream = await new_stream(alice)
    res = await alice.patch(f"{API}/live/{stream['id']}", json={"title": "Renamed", "slow_mode_seconds": 30})
    assert res.status_code == 200
    assert res.json()["title"] == "Renamed" and res.json()["slow_mode_seconds"] == 30
    res = await bob.patch(f"{API}/live/{stream['id']}", json={"title": "mine now"})
    assert res.status_code == 403
    assert (await bob.post(f"{API}/live/{stream['id']}/key")).status_code == 403
    assert (await alice.get(f"{API}/live/{stream['id']}")).json()["title"] == "Renamed"


async def test_the_list_holds_live_streams_only(live):
    alice = await creator(live, "alice")
    dave = await creator(live, "dave")
    idle = await new_stream(alice, "later")
    on_air = await go_live(live, dave, title="on air")
    hidden = await go_live(live, alice, title="hidden", visibility="private")
    page = (await live.get(f"{API}/live")).json()
    ids = [s["id"] for s in page["items"]]
    assert on_air["id"] in ids and idle["id"] not in ids and hidden["id"] not in ids
    assert page["next_cursor"] is None
    assert hidden["id"] in [s["id"] for s in (await alice.get(f"{API}/live")).json()["items"]]
    one = (await alice.get(f"{API}/live", params={"limit": 1})).json()
    assert len(one["items"]) == 1 and one["next_cursor"]
    rest = (await alice.get(f"{API}/live", params={"limit": 1, "cursor": one["next_cursor"]})).json()
    assert len(rest["items"]) == 1 and rest["items"][0]["id"] != one["items"][0]["id"]
