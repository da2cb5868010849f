"""The media server's callbacks, in nginx-rtmp's wire format: keys, redirects, the stream's life cycle."""

from __future__ import annotations

import re
import time

from tests.integration.live.conftest import HOOK_SECRET
from tests.integration.live.helpers import API, control_api, creator, drop_request, go_live, hook, new_stream
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup


async def _until(ws, event: str) -> dict:
    while True:
        frame = await ws.event()
        if frame["event"] == event:
            return frame


async def test_publish_with_the_key_goes_live_under_the_stream_id_and_done_ends_it(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    await bob.follow(alice)
    stream = await new_stream(alice)
    key, sid = stream["ingest"]["stream_key"], stream["id"]
    async with connect(live, bob.token) as ws:
        assert (await ws.subscribe(f"live:{sid}"))["type"] == "subscribed"
        res = await hook(live, "publish", key)
        # nginx-rtmp pushes an accepted publish to the Location: its internal app, under the stream id.
        assert res.status_code == 302
        assert res.headers["location"] == f"rtmp://127.0.0.1:1935/hls/{sid}"
        started = await _until(ws, "live.started")
        assert started["data"]["id"] == sid and started["data"]["status"] == "live"
        assert started["data"]["playback"] is None  # the room's event is everyone's: no URL bound to one viewer

        seen = (await bob.get(f"{API}/live/{sid}")).json()
        assert seen["status"] == "live" and seen["started_at"] is not None
        url = seen["playback"]["hls_url"]
        hls = re.fullmatch(rf"http://127\.0\.0\.1:8080/hls/{sid}/(\d+-{bob.id}-[\w-]{{24}})/index\.m3u8", url)
        assert hls is not None and key not in url, url
        notes = (await bob.get(f"{API}/notifications")).json()["items"]
        assert [(n["type"], n["subject"]) for n in notes] == [("live_started", {"type": "live", "id": sid})]

        # The internal application reports the end under the stream id.
        assert (await hook(live, "publish_done", sid)).status_code == 200
        ended = await _until(ws, "live.ended")
        assert ended["data"]["status"] == "ended" and ended["data"]["playback"] is None
    after = (await bob.get(f"{API}/live/{sid}")).json()
    assert after["status"] == "ended" and after["ended_at"] is not None and after["playback"] is None
    assert (await hook(live, "publish_done", sid)).status_code == 200  # twice (both apps report): no effect


async def test_a_private_stream_notifies_no_one(live):
    alice = await creator(live, "alice")
    bob = await signup(live, "bob")
    await bob.follow(alice)
    stream = await new_stream(alice, visibility="private")
    assert (await hook(live, "publish", stream["ingest"]["stream_key"])).status_code == 302
    assert (await bob.get(f"{API}/notifications")).json()["items"] == []


async def test_unknown_rotated_and_ended_keys_are_refused(live):
    alice = await creator(live, "alice")
    stream = await new_stream(alice)
    old = stream["ingest"]["stream_key"]
    res = await hook(live, "publish", "sk_" + "x" * 32)
    assert res.status_code == 403 and res.json()["code"] == "forbidden"

    rotated = await alice.post(f"{API}/live/{stream['id']}/key")
    assert rotated.status_code == 200
    new = rotated.json()["stream_key"]
    assert new != old and rotated.json()["rtmp_url"].startswith("rtmp://")
    assert (await hook(live, "publish", old)).status_code == 403
    assert (await hook(live, "publish", new)).status_code == 302
    assert (await hook(live, "publish_done", new)).status_code == 200
    res = await hook(live, "publish", new)
    assert res.status_code == 403 and "ended" in res.json()["detail"]
    assert (await live.get(f"{API}/live/{stream['id']}")).json()["status"] == "ended"


async def test_hooks_need_the_secret(live):
    alice = await creator(live, "alice")
    stream = await new_stream(alice)
    key = stream["ingest"]["stream_key"]
    for secret in (None, "", "wrong"):
        res = await hook(live, "publish", key, secret=secret)
        assert res.status_code == 401 and res.json()["code"] == "unauthorized", secret
    # A user's bearer token is not the media server's secret.
    res = await live.post(f"{API}/live/hooks/publish", data={"call": "publish", "name": key}, headers=alice.headers)
    assert res.status_code == 401
    assert (await live.get(f"{API}/live/{stream['id']}")).json()["status"] == "idle"


async def test_hooks_answer_404_while_no_secret_is_configured(make_live):
    async with make_live(hook_secret=None) as client:
        res = await client.post(f"{API}/live/hooks/publish", data={"call": "publish", "name": "sk_x"})
        assert res.status_code == 404


async def test_malformed_hook_calls_are_4xx(live):
    alice = await creator(live, "alice")
    stream = await new_stream(alice)
    key = stream["ingest"]["stream_key"]
    assert (await hook(live, "play", key)).status_code == 404
    res = await hook(live, "publish", key, call="publish_done")
    assert res.status_code == 422
    res = await hook(live, "publish", "")
    assert res.status_code == 422
    res = await hook(live, "record_done", stream["id"], path="/etc/passwd")
    assert res.status_code == 422
    assert (await hook(live, "publish_done", "999999")).status_code == 404
    assert (await live.get(f"{API}/live/{stream['id']}")).json()["status"] == "idle"


async def test_a_closed_recording_becomes_the_streams_replay_video(live, recordings):
    import asyncio

    from tests.support.media import clip

    alice = await creator(live, "alice")
    stream = await new_stream(alice, title="Friday show")
    sid = stream["id"]
    assert (await hook(live, "publish", stream["ingest"]["stream_key"])).status_code == 302
    assert (await hook(live, "publish_done", sid)).status_code == 200
    recording = clip(recordings / f"{sid}-1700000000.mp4", seconds=1.0)

    assert (await hook(live, "record_done", sid, path=str(recording))).status_code == 200
    replay = (await alice.get(f"{API}/live/{sid}")).json()["replay_video_id"]
    assert replay is not None
    # The same recording reported twice (both nginx apps may) makes no second video.
    assert (await hook(live, "record_done", sid, path=str(recording))).status_code == 200
    assert (await alice.get(f"{API}/live/{sid}")).json()["replay_video_id"] == replay

    video = {}
    for _ in range(240):  # the in-process video worker transcodes it like an upload
        video = (await alice.get(f"{API}/videos/{replay}")).json()
        if video["status"] in ("ready", "failed"):
            break
        await asyncio.sleep(0.5)
    assert video["status"] == "ready", video
    assert video["title"] == "Friday show (replay)" and video["owner"]["username"] == "alice"
    assert (await alice.get(f"{API}/videos/{replay}/playback")).status_code == 200


async def playback_check(client, sid: str, token: str, secret: str | None = HOOK_SECRET) -> int:
    """nginx's auth_request before it serves ``/hls/{sid}/{token}/<file>`` (see deploy/nginx-rtmp)."""
    headers = {"X-Live-Hook-Secret": secret} if secret is not None else {}
    form = {"call": "playback", "name": sid, "token": token}
    return (await client.post(f"{API}/live/hooks/playback", data=form, headers=headers)).status_code  # type: ignore[no-any-return]


async def test_hls_opens_only_with_the_signed_token_of_that_stream(live):
    from server.video import signing
    from tests.support.settings import of

    alice = await creator(live, "alice")
    fan, stranger = await signup(live, "fan"), await signup(live, "stranger")
    await fan.follow(alice)
    friends, other = await new_stream(alice, visibility="followers"), await new_stream(alice)
    for stream in (friends, other):
        assert (await hook(live, "publish", stream["ingest"]["stream_key"])).status_code == 302
    sid = friends["id"]
    url = (await fan.get(f"{API}/live/{sid}")).json()["playback"]["hls_url"]
    token = url.split("/")[-2]
    assert await playback_check(live, sid, token) == 200  # a follower's player gets the playlist and segments
    # A stranger never gets a URL, and cannot make one: another stream's token, a forged or an expired one.
    assert (await stranger.get(f"{API}/live/{sid}")).status_code == 404
    other_token = (await stranger.get(f"{API}/live/{other['id']}")).json()["playback"]["hls_url"].split("/")[-2]
    assert await playback_check(live, sid, other_token) == 403
    assert await playback_check(live, other["id"], other_token) == 200
    secret = of(live).security.secret_key
    expired, _ = signing.sign_for(secret, int(sid), int(fan.id), 60, now=time.time() - 3600, scope="live-viewer")
    as_video, _ = signing.sign_for(secret, int(sid), int(fan.id), 600)  # a video token for the same id is no live token
    unbound, _ = signing.sign(secret, int(sid), 600, scope="live")  # the format before tokens named their viewer
    exp, _, mac = token.split("-", 2)
    as_stranger = f"{exp}-{stranger.id}-{mac}"  # another viewer's id under the fan's signature
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (expired, as_video, unbound, as_stranger, forged, "", "p", "1-" + "x" * 80):
        assert await playback_check(live, sid, bad) == 403, bad
    for name in ("", "abc", "9" * 30):
        assert await playback_check(live, name, token) == 403
    # Only the media server asks.
    assert await playback_check(live, sid, token, secret=None) == 401
    assert await playback_check(live, sid, token, secret="wrong") == 401


async def test_a_playback_token_stops_opening_once_its_viewer_loses_access(make_live):
    """The token names its viewer; nginx's check asks whether they may still see the stream, on every node."""
    async with make_live() as one, make_live() as two:  # two app nodes on one database and Redis
        alice = await creator(one, "alice")
        fan, dave = await signup(one, "fan"), await signup(one, "dave")
        await fan.follow(alice)
        friends = (await go_live(one, alice, visibility="followers"))["id"]
        public = (await go_live(one, alice, title="open to all"))["id"]

        def token_of(res) -> str:
            assert res.status_code == 200, res.text
            return res.json()["playback"]["hls_url"].split("/")[-2]  # type: ignore[no-any-return]

        fans = token_of(await fan.get(f"{API}/live/{friends}"))
        fans_public = token_of(await fan.get(f"{API}/live/{public}"))
        daves = token_of(await dave.get(f"{API}/live/{public}"))
        anonymous = token_of(await one.get(f"{API}/live/{public}"))
        assert await playback_check(one, friends, fans) == 200
        assert await playback_check(one, public, fans_public) == 200
        # alice blocks the fan: both URLs, hours before they expire, open nothing on either node
        assert (await alice.post(f"{API}/users/fan/block")).status_code in (200, 204)
        for node in (one, two):
            assert await playback_check(node, friends, fans) == 403
            assert await playback_check(node, public, fans_public) == 403
        # alice's account goes private: her public stream is for followers now; dave and anonymous players lose it
        assert (await alice.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
        for node in (one, two):
            assert await playback_check(node, public, daves) == 403
            assert await playback_check(node, public, anonymous) == 403
        mine = token_of(await alice.get(f"{API}/live/{public}"))
        assert await playback_check(two, public, mine) == 200  # the owner's own URL still plays


async def test_rotating_the_key_while_live_has_the_media_server_drop_the_publisher(make_live):
    async with control_api() as (url, heads), make_live(control_url=url) as client:
        alice = await creator(client, "alice")
        sid = (await new_stream(alice))["id"]
        idle_key = (await alice.post(f"{API}/live/{sid}/key")).json()["stream_key"]
        assert heads == []  # nobody to drop while idle
        assert (await hook(client, "publish", idle_key, clientid="4711")).status_code == 302
        res = await alice.post(f"{API}/live/{sid}/key")
        assert res.status_code == 200 and res.json()["stream_key"] != idle_key
        assert [drop_request(h) for h in heads] == [("GET /control/drop/publisher?clientid=4711 HTTP/1.1", HOOK_SECRET)]
        assert (await hook(client, "publish", idle_key)).status_code == 403  # the old key, refused


async def test_a_stream_name_past_bigint_is_unknown_not_a_500(live):
    for name in ("9223372036854775808", "9" * 19):  # digits, as a redirected stream id, but past bigint
        res = await hook(live, "publish_done", name)
        assert res.status_code == 404, (name, res.status_code, res.text)
