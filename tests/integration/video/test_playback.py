"""Signed playback URLs: private, followers and subscribers videos; tampering, expiry, other videos."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.social.helpers import signup
from tests.integration.video.helpers import create_video, creator, path_of, upload, wait_status


async def ready_video(actor: Any, data: bytes, **fields: Any) -> dict[str, Any]:
    video = await upload(actor, data, **fields)
    done = await wait_status(actor, video["id"])
    assert done["status"] == "ready", done
    return done  # type: ignore[no-any-return]


async def test_playback_before_ready_is_409_not_ready(client: Any) -> None:
    cara = await creator(client)
    video = await create_video(cara)
    res = await cara.get(f"/api/v1/videos/{video['id']}/playback")
    assert res.status_code == 409 and res.json()["code"] == "not_ready"


async def test_private_video_gets_signed_expiring_urls_for_every_file(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    stranger = await signup(client, "stranger")
    private = await ready_video(cara, clips["noaudio"], visibility="private")
    other = await ready_video(cara, clips["noaudio"], visibility="private", title="another")
    assert (await stranger.get(f"/api/v1/videos/{private['id']}")).status_code == 404
    assert (await stranger.get(f"/api/v1/videos/{private['id']}/playback")).status_code == 404
    play = (await cara.get(f"/api/v1/videos/{private['id']}/playback")).json()
    assert play["expires_at"] is not None
    url = path_of(play["hls_url"])
    master = await client.get(url)  # no login needed: the signature is the capability
    assert master.status_code == 200
    variant_uri = re.search(r"^(\S+\.m3u8)$", master.text, re.M).group(1)  # type: ignore[union-attr]
    base = url.rsplit("/", 1)[0]
    variant = await client.get(f"{base}/{variant_uri}")
    assert variant.status_code == 200
    segment = re.search(r"^(seg_\d+\.ts)$", variant.text, re.M).group(1)  # type: ignore[union-attr]
    seg = await client.get(f"{base}/{variant_uri.rsplit('/', 1)[0]}/{segment}")
    assert seg.status_code == 200 and seg.headers["content-type"] == "video/mp2t"
    # the same files without a signature, with the public token, or with a tampered one: refused
    _, _, vid, token, name = url.split("/", 5)[1:]
    assert (await client.get(f"/media/videos/{vid}/p/{name}")).status_code == 403
    exp, sig = token.split("-", 1)
    tampered = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    assert (await client.get(f"/media/videos/{vid}/{exp}-{tampered}/{name}")).status_code == 403
    assert (await client.get(f"/media/videos/{vid}/{int(exp) + 60}-{sig}/{name}")).status_code == 403
    # a signature for one video never opens another
    assert (await client.get(f"/media/videos/{other['id']}/{token}/{name}")).status_code == 403


async def test_expired_signature_is_403(app: Any, client: Any, clips: dict[str, bytes]) -> None:
    from server.video import signing

    cara = await creator(client)
    video = await ready_video(cara, clips["noaudio"], visibility="private")
    secret = app.state.video.secret_key
    owner = int(cara.id)
    old, _ = signing.sign_for(secret, int(video["id"]), owner, ttl=60, now=0)  # expired in 1970
    assert (await client.get(f"/media/videos/{video['id']}/{old}/master.m3u8")).status_code == 403
    fresh, _ = signing.sign_for(secret, int(video["id"]), owner, ttl=60)
    assert (await client.get(f"/media/videos/{video['id']}/{fresh}/master.m3u8")).status_code == 200
    # an unbound token (the format before tokens named their viewer) opens nothing
    unbound, _ = signing.sign(secret, int(video["id"]), ttl=60)
    assert (await client.get(f"/media/videos/{video['id']}/{unbound}/master.m3u8")).status_code == 403


async def test_followers_and_subscribers_visibility(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    fan = await signup(client, "fan")
    stranger = await signup(client, "stranger")
    await fan.follow(cara)
    followers = await ready_video(cara, clips["noaudio"], visibility="followers")
    subs = await ready_video(cara, clips["noaudio"], visibility="subscribers")
    res = await fan.get(f"/api/v1/videos/{followers['id']}/playback")
    assert res.status_code == 200 and res.json()["expires_at"] is not None
    assert (await client.get(path_of(res.json()["hls_url"]))).status_code == 200
    assert (await stranger.get(f"/api/v1/videos/{followers['id']}/playback")).status_code == 404
    # subscribers-only: the owner, and subscribers with access (payments), never a mere follower
    assert (await fan.get(f"/api/v1/videos/{subs['id']}")).status_code == 404
    assert (await cara.get(f"/api/v1/videos/{subs['id']}/playback")).status_code == 200
    # a public video's token does not open a followers-only one
    assert (await client.get(f"/media/videos/{followers['id']}/p/master.m3u8")).status_code == 403


async def test_owner_and_staff_edit_and_delete_others_cannot(client: Any, clips: dict[str, bytes]) -> None:
    from tests.integration.social.helpers import signup as make

    cara = await creator(client)
    other = await creator(client, "olga")
    video = await create_video(cara)
    res = await other.patch(f"/api/v1/videos/{video['id']}", json={"title": "mine now"})
    assert res.status_code == 404  # not ready: others cannot even see it
    res = await cara.patch(f"/api/v1/videos/{video['id']}", json={"title": "Renamed", "tags": ["a", "b"]})
    assert res.status_code == 200 and res.json()["title"] == "Renamed" and res.json()["tags"] == ["a", "b"]
    assert res.json()["visibility"] == "public"
    assert (await cara.patch(f"/api/v1/videos/{video['id']}", json={"title": ""})).status_code == 422
    mod = await make(client, "mod", role="moderator")
    assert (await mod.delete(f"/api/v1/videos/{video['id']}")).status_code == 204
    assert (await cara.get(f"/api/v1/videos/{video['id']}")).status_code == 404


async def test_a_signed_url_stops_working_once_its_viewer_loses_access(client: Any, clips: dict[str, bytes]) -> None:
    """The URL names its viewer: the video made private closes it at once, as does a block (docs/security.md)."""
    cara = await creator(client)
    fan = await signup(client, "fan")
    await fan.follow(cara)
    video = await ready_video(cara, clips["noaudio"], visibility="followers")
    vid = video["id"]
    url = path_of((await fan.get(f"/api/v1/videos/{vid}/playback")).json()["hls_url"])
    res = await client.get(url)
    assert res.status_code == 200 and res.headers["cache-control"].startswith("private")
    # the owner makes it private: the fan's URL, issued hours before its expiry, opens nothing now
    assert (await cara.patch(f"/api/v1/videos/{vid}", json={"visibility": "private"})).status_code == 200
    res = await client.get(url)
    assert res.status_code == 403 and res.json()["code"] == "forbidden"
    owners = path_of((await cara.get(f"/api/v1/videos/{vid}/playback")).json()["hls_url"])
    assert (await client.get(owners)).status_code == 200  # the owner's own URL still plays
    # followers-only again: the fan may watch, so the same URL opens again; then the owner blocks the fan
    assert (await cara.patch(f"/api/v1/videos/{vid}", json={"visibility": "followers"})).status_code == 200
    again = path_of((await fan.get(f"/api/v1/videos/{vid}/playback")).json()["hls_url"])
    assert (await client.get(again)).status_code == 200  # this node now remembers that the fan may watch it
    assert (await cara.post(f"/api/v1/users/{fan.username}/block")).status_code in (200, 204)
    assert (await client.get(again)).status_code == 403  # at once: the block was made on this node
    # the owner's account is suspended: another follower's URL, remembered as allowed, closes at once too
    # (before, only changes to the video itself cleared this node's cache: it kept playing for seconds)
    pal = await signup(client, "pal")
    await pal.follow(cara)
    pals = path_of((await pal.get(f"/api/v1/videos/{vid}/playback")).json()["hls_url"])
    assert (await client.get(pals)).status_code == 200  # this node now remembers that pal may watch it
    admin = await signup(client, "adam", role="admin")
    assert (await admin.post(f"/api/v1/admin/users/{cara.id}/suspend", json={"reason": "abuse"})).status_code == 200
    assert (await client.get(pals)).status_code in (403, 404)


async def test_a_public_videos_files_are_cached_for_an_hour_and_refused_at_once_when_no_longer_public(
    client: Any, clips: dict[str, bytes]
) -> None:
    """A CDN may keep a public video's segments and poster an hour, never a year (docs/operations.md, "A CDN in
    front"); the origin refuses them as soon as the video goes private or is deleted."""
    cara = await creator(client)
    video = await ready_video(cara, clips["noaudio"])
    vid = video["id"]
    url = path_of((await cara.get(f"/api/v1/videos/{vid}/playback")).json()["hls_url"])
    assert f"/media/videos/{vid}/p/" in url
    base = url.rsplit("/", 1)[0]
    variant_uri = re.search(r"^(\S+\.m3u8)$", (await client.get(url)).text, re.M).group(1)  # type: ignore[union-attr]
    variant = await client.get(f"{base}/{variant_uri}")
    segment = re.search(r"^(seg_\d+\.ts)$", variant.text, re.M).group(1)  # type: ignore[union-attr]
    seg_url = f"{base}/{variant_uri.rsplit('/', 1)[0]}/{segment}"
    poster_url = path_of(video["thumbnail_url"])
    for file in (seg_url, poster_url):
        res = await client.get(file)
        assert res.status_code == 200 and res.headers["cache-control"] == "public, max-age=3600", file
    assert (await client.get(url)).headers["cache-control"] == "public, max-age=300"  # playlists: 5 min

    assert (await cara.patch(f"/api/v1/videos/{vid}", json={"visibility": "private"})).status_code == 200
    for file in (url, seg_url, poster_url):
        res = await client.get(file)
        assert res.status_code == 403 and res.json()["code"] == "forbidden", file
        # a CDN revalidating its copy (If-None-Match) is refused too, not told "not modified"
        etag = {"If-None-Match": '"anything"'}
        assert (await client.get(file, headers=etag)).status_code == 403
    assert (await cara.patch(f"/api/v1/videos/{vid}", json={"visibility": "public"})).status_code == 200
    assert (await client.get(seg_url)).status_code == 200
    assert (await cara.delete(f"/api/v1/videos/{vid}")).status_code == 204
    assert (await client.get(seg_url)).status_code in (403, 404)


async def test_a_video_made_private_on_one_node_closes_a_url_the_other_node_remembers(
    client: Any, clips: dict[str, bytes], settings: Any
) -> None:
    """A change to the video itself reaches the other nodes' access caches through its ``sys:recheck`` event
    (before, they served the URL from their cache for up to 5 s more)."""
    from tests.integration.realtime.helpers import connect
    from tests.integration.video.helpers import app_client

    cara = await creator(client)
    fan = await signup(client, "fan")
    await fan.follow(cara)
    video = await ready_video(cara, clips["noaudio"], visibility="followers")
    vid = video["id"]
    url = path_of((await fan.get(f"/api/v1/videos/{vid}/playback")).json()["hls_url"])
    async with app_client(settings) as two:  # node B on the same database and Redis
        assert (await two.get(url)).status_code == 200  # node B now remembers that the fan may watch it
        async with connect(two, fan.token) as ws:
            assert (await ws.subscribe(f"user:{fan.id}"))["type"] == "subscribed"
            assert (await cara.patch(f"/api/v1/videos/{vid}", json={"visibility": "private"})).status_code == 200
            # A later change's event: the relay publishes in commit order, so once it reached node B the
            # video's re-check event has too.
            await cara.follow(fan)
            while (await ws.event())["event"] != "notification.created":
                pass
        res = await two.get(url)
        assert res.status_code == 403 and res.json()["code"] == "forbidden"
