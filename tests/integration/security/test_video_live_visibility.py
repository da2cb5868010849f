"""Videos and streams follow the posts' account rules (found by the BOLA matrix once their routes joined it).

A suspended owner's videos and streams were still readable (finding 12 fixed that for posts only), and a
private account's public stream was readable by strangers, while its public posts and videos are for
its followers.
"""

from __future__ import annotations

from typing import Any

from tests.integration.social.helpers import Actor, signup

API = "/api/v1"


async def _creator(client: Any) -> tuple[Actor, Actor, Actor]:
    olivia, fran, sam = await signup(client, "olivia"), await signup(client, "fran"), await signup(client, "sam")
    assert (await olivia.post(f"{API}/creators/enroll")).status_code == 200
    await fran.follow(olivia)
    return olivia, fran, sam


async def _ready_video(owner: Actor) -> str:
    from server import sql

    res = await owner.post(f"{API}/videos", json={"title": "a clip", "visibility": "public"})
    assert res.status_code == 201, res.text
    vid = res.json()["id"]
    # As processing leaves it (no transcode needed to check who may read it).
    await sql.execute("UPDATE videos SET status = 'ready', duration = 10, published_at = now() WHERE id = $1", int(vid))
    return str(vid)


async def _live_stream(owner: Actor) -> str:
    from server import sql

    res = await owner.post(f"{API}/live", json={"title": "on air", "visibility": "public"})
    assert res.status_code == 201, res.text
    sid = res.json()["id"]
    await sql.execute("UPDATE live_streams SET status = 'live', started_at = now() WHERE id = $1", int(sid))
    return str(sid)


async def test_a_suspended_owners_videos_and_streams_are_gone_for_everyone_but_staff(client):
    olivia, fran, sam = await _creator(client)
    vid, sid = await _ready_video(olivia), await _live_stream(olivia)
    for who in (fran, sam):
        assert (await who.get(f"{API}/videos/{vid}")).status_code == 200
        assert (await who.get(f"{API}/live/{sid}")).status_code == 200

    admin = await signup(client, "adam", role="admin")
    res = await admin.post(f"{API}/admin/users/{olivia.id}/suspend", json={"reason": "abuse"})
    assert res.status_code == 200, res.text

    for who in (fran, sam):
        assert (await who.get(f"{API}/videos/{vid}")).status_code == 404
        assert (await who.get(f"{API}/videos/{vid}/playback")).status_code == 404
        assert (await who.post(f"{API}/videos/{vid}/like")).status_code == 404
        assert vid not in [v["id"] for v in (await who.get(f"{API}/videos")).json()["items"]]
        assert (await who.get(f"{API}/live/{sid}")).status_code == 404
        assert (await who.get(f"{API}/live/{sid}/chat")).status_code == 404
        assert sid not in [s["id"] for s in (await who.get(f"{API}/live")).json()["items"]]
    assert (await client.get(f"/media/videos/{vid}/p/master.m3u8")).status_code in (403, 404)
    # Staff still reach them (to review the case) and may act on them.
    mod = await signup(client, "mona", role="moderator")
    assert (await mod.get(f"{API}/videos/{vid}")).status_code == 200
    res = await mod.patch(f"{API}/videos/{vid}", json={"title": "renamed by a moderator"})
    assert res.status_code == 200, res.text
    assert (await mod.get(f"{API}/live/{sid}")).status_code == 200


async def test_a_private_accounts_public_stream_is_for_its_followers(client):
    olivia, fran, sam = await _creator(client)
    sid = await _live_stream(olivia)
    assert (await sam.get(f"{API}/live/{sid}")).status_code == 200
    assert (await olivia.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200

    assert (await sam.get(f"{API}/live/{sid}")).status_code == 404
    assert (await sam.get(f"{API}/live/{sid}/chat")).status_code == 404
    assert (await client.get(f"{API}/live/{sid}")).status_code == 404  # anonymous
    assert sid not in [s["id"] for s in (await sam.get(f"{API}/live")).json()["items"]]
    assert (await fran.get(f"{API}/live/{sid}")).status_code == 200
    assert sid in [s["id"] for s in (await fran.get(f"{API}/live")).json()["items"]]
    assert (await olivia.get(f"{API}/live/{sid}")).status_code == 200
