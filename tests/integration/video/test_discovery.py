"""Lists honour visibility and blocks; search, related, trending; likes; the feed post; moderation."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.social.helpers import signup
from tests.integration.video.helpers import app_client, creator, upload, wait_status


async def ready(actor: Any, data: bytes, **fields: Any) -> dict[str, Any]:
    video = await upload(actor, data, **fields)
    done = await wait_status(actor, video["id"])
    assert done["status"] == "ready", done
    return done  # type: ignore[no-any-return]


def ids(page: Any) -> list[str]:
    return [v["id"] for v in page.json()["items"]]


async def test_lists_search_related_and_blocks(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    fan = await signup(client, "fan")
    blocked = await signup(client, "blocked")
    await fan.follow(cara)
    data = clips["noaudio"]
    cooking = await ready(cara, data, title="Cooking pasta carbonara", tags=["food", "italy"])
    travel = await ready(cara, data, title="Travel in Rome", description="a walk by the Colosseum", tags=["italy"])
    unlisted = await ready(cara, data, title="Secret pasta", visibility="unlisted", tags=["food"])
    followers = await ready(cara, data, title="Pasta for fans", visibility="followers", tags=["food"])
    private = await ready(cara, data, title="Private pasta", visibility="private")
    everything = {cooking["id"], travel["id"], unlisted["id"], followers["id"], private["id"]}
    # newest first; unlisted and private are never listed for others; followers-only for followers
    assert ids(await client.get("/api/v1/videos")) == [travel["id"], cooking["id"]]
    assert ids(await fan.get("/api/v1/videos")) == [followers["id"], travel["id"], cooking["id"]]
    assert set(ids(await cara.get(f"/api/v1/users/{cara.username}/videos"))) == everything
    assert ids(await client.get(f"/api/v1/users/{cara.username}/videos")) == [travel["id"], cooking["id"]]
    page = await client.get("/api/v1/videos", params={"limit": 1})
    assert ids(page) == [travel["id"]] and page.json()["next_cursor"]
    nxt = await client.get("/api/v1/videos", params={"limit": 1, "cursor": page.json()["next_cursor"]})
    assert ids(nxt) == [cooking["id"]] and nxt.json()["next_cursor"] is None
    assert (await client.get("/api/v1/videos", params={"limit": 0})).status_code == 422
    assert (await client.get("/api/v1/videos", params={"limit": 101})).status_code == 422
    # full-text over title, description and tags; trigram forgives a typo
    assert set(ids(await fan.get("/api/v1/videos/search", params={"q": "pasta"}))) == {cooking["id"], followers["id"]}
    assert ids(await client.get("/api/v1/videos/search", params={"q": "colosseum"})) == [travel["id"]]
    assert ids(await client.get("/api/v1/videos/search", params={"q": "carbonarra"})) == [cooking["id"]]
    assert (await client.get("/api/v1/videos/search", params={"q": ""})).status_code == 422
    # related by shared tags, the most shared first
    related = ids(await fan.get(f"/api/v1/videos/{cooking['id']}/related"))
    assert related[0] == followers["id"] or related[0] == travel["id"]
    assert set(related) == {travel["id"], followers["id"]}
    # blocks hide both ways, in every list and on the object
    assert (await cara.post(f"/api/v1/users/{blocked.username}/block")).status_code in (200, 204)
    assert ids(await blocked.get("/api/v1/videos")) == []
    assert ids(await blocked.get("/api/v1/videos/search", params={"q": "pasta"})) == []
    assert (await blocked.get(f"/api/v1/videos/{cooking['id']}")).status_code == 404
    assert (await blocked.get(f"/api/v1/users/{cara.username}/videos")).status_code == 404


async def test_likes_are_exact_and_trending_ranks_engagement(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    users = [await signup(client, f"u{i}") for i in range(3)]
    first = await ready(cara, clips["noaudio"], title="first")
    second = await ready(cara, clips["noaudio"], title="second")
    for u in users:
        res = await u.post(f"/api/v1/videos/{second['id']}/like")
        assert res.status_code == 200 and res.json()["liked_by_me"]
    again = await users[0].post(f"/api/v1/videos/{second['id']}/like")  # idempotent
    assert again.json()["like_count"] == 3
    await users[1].delete(f"/api/v1/videos/{second['id']}/like")
    assert (await client.get(f"/api/v1/videos/{second['id']}")).json()["like_count"] == 2
    await users[2].post(f"/api/v1/videos/{first['id']}/like")
    trending = ids(await client.get("/api/v1/videos/trending"))
    assert trending == [second["id"], first["id"]]


async def test_a_ready_public_video_reaches_followers_home_feeds_as_a_post(
    client: Any, clips: dict[str, bytes]
) -> None:
    cara = await creator(client)
    fan = await signup(client, "fan")
    await fan.follow(cara)
    video = await ready(cara, clips["noaudio"], title="Hello fans", tags=["hello"])
    for _ in range(100):  # the post is made right after the video turns ready (its own transaction)
        if video["post_id"]:
            break
        await asyncio.sleep(0.05)
        video = (await cara.get(f"/api/v1/videos/{video['id']}")).json()
    assert video["post_id"]
    home = await fan.feed("/api/v1/feeds/home")
    post = next(p for p in home if p["id"] == video["post_id"])
    assert post["video"]["id"] == video["id"] and post["video"]["title"] == "Hello fans"
    assert post["hashtags"] == ["hello"]
    # the post works like any post: comments and likes
    assert (await fan.post(f"/api/v1/posts/{post['id']}/comments", json={"text": "nice!"})).status_code == 201
    # going private takes it out of feeds; deleting the video deletes the post
    res = await cara.patch(f"/api/v1/videos/{video['id']}", json={"visibility": "private"})
    assert res.json()["post_id"] is None
    assert all(p["id"] != video["post_id"] for p in await fan.feed("/api/v1/feeds/home"))
    res = await cara.patch(f"/api/v1/videos/{video['id']}", json={"visibility": "followers"})
    post_id = res.json()["post_id"]
    assert post_id and any(p["id"] == post_id for p in await fan.feed("/api/v1/feeds/home"))
    assert (await cara.delete(f"/api/v1/videos/{video['id']}")).status_code == 204
    assert (await fan.get(f"/api/v1/posts/{post_id}")).status_code == 404


async def test_approval_queue_and_reports(
    clean_db: None, redis_client: Any, clips: dict[str, bytes], settings: Any
) -> None:
    async with app_client(settings, require_approval=True) as client:
        cara = await creator(client)
        fan = await signup(client, "fan")
        mod = await signup(client, "mod", role="moderator")
        await fan.follow(cara)
        waiting = await ready(cara, clips["noaudio"], title="Needs a look")
        rejected = await ready(cara, clips["noaudio"], title="Not ok")
        assert waiting["moderation"] == "pending" and waiting["post_id"] is None
        assert (await fan.get(f"/api/v1/videos/{waiting['id']}")).status_code == 404
        assert ids(await fan.get("/api/v1/videos")) == []
        assert (await fan.get("/api/v1/admin/videos/pending")).status_code == 403
        queue = await mod.get("/api/v1/admin/videos/pending")
        assert ids(queue) == [waiting["id"], rejected["id"]]
        approved = await mod.post(f"/api/v1/admin/videos/{waiting['id']}/approve")
        assert approved.status_code == 200 and approved.json()["moderation"] == "approved"
        assert (
            await mod.post(f"/api/v1/admin/videos/{rejected['id']}/reject", json={"reason": "spam"})
        ).status_code == 200
        assert (await mod.post(f"/api/v1/admin/videos/{rejected['id']}/approve")).status_code == 409
        assert ids(await fan.get("/api/v1/videos")) == [waiting["id"]]
        assert (await fan.get(f"/api/v1/videos/{rejected['id']}")).status_code == 404
        home = await fan.feed("/api/v1/feeds/home")
        assert any((p.get("video") or {}).get("id") == waiting["id"] for p in home)
        report = await fan.post(f"/api/v1/videos/{waiting['id']}/report", json={"reason": "copyright"})
        assert report.status_code == 201 and report.json()["target_type"] == "video"
        reports = (await mod.get("/api/v1/moderation/reports")).json()["items"]
        assert [(r["target_type"], r["target_id"]) for r in reports] == [("video", waiting["id"])]
