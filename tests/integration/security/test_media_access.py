"""Finding 12 (media): images of followers-only, private and deleted posts only through signed, expiring URLs,
bound to the viewer they were issued to and honoured only while that viewer may still see the post."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import users

API = "/api/v1"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


async def _post_with_image(actor, visibility):
    up = await actor.post(f"{API}/posts/media", files={"data": ("a.png", _png(), "image/png")})
    assert up.status_code == 201, up.text
    res = await actor.post(
        f"{API}/posts", json={"text": f"{visibility} pic", "visibility": visibility, "media_ids": [up.json()["id"]]}
    )
    assert res.status_code == 201, res.text
    return res.json()


async def test_followers_only_media_needs_a_valid_signature(client):
    alice, fan = await users(client, "alice", "fan")
    await fan.follow(alice)
    post = await _post_with_image(alice, "followers")
    url = (await fan.get(f"{API}/posts/{post['id']}")).json()["media"][0]["url"]
    parts = urlsplit(url)
    token = parse_qs(parts.query)["sig"][0]
    expires, viewer, mac = token.split("-", 2)
    assert viewer == fan.id, url  # bound to the viewer it was issued to
    assert (await client.get(url)).status_code == 200  # the signed URL works for whoever was given it
    bare = parts.path
    assert (await client.get(bare)).status_code in (403, 404)  # the bare path is not enough
    forged = f"{bare}?sig={expires}-{viewer}-{'0' * len(mac)}"
    assert (await client.get(forged)).status_code in (403, 404)
    expired = f"{bare}?sig=1000-{viewer}-{mac}"
    assert (await client.get(expired)).status_code in (403, 404)
    other = f"{bare}?sig={expires}-{alice.id}-{mac}"  # another viewer's id under this viewer's signature
    assert (await client.get(other)).status_code in (403, 404)


async def test_public_media_is_plain_and_deleted_media_is_gone(client):
    (alice,) = await users(client, "alice")
    post = await _post_with_image(alice, "public")
    url = post["media"][0]["url"]
    assert (await client.get(url)).status_code == 200
    private = await _post_with_image(alice, "private")
    signed = private["media"][0]["url"]
    assert (await client.get(signed)).status_code == 200
    assert (await alice.delete(f"{API}/posts/{private['id']}")).status_code == 204
    assert (await client.get(signed)).status_code == 404  # deleted: even a valid signature gets nothing
    assert (await alice.delete(f"{API}/posts/{post['id']}")).status_code == 204
    assert (await client.get(url)).status_code == 404


async def _gone(client, url: str) -> None:
    res = await client.get(url)
    assert res.status_code == 404, res.status_code
    assert res.headers["content-type"].startswith("application/problem+json") and res.json()["code"] == "not_found"


async def test_an_image_url_stops_opening_once_its_viewer_loses_access(client, settings):
    """Blocked, or unfollowed: the URL a follower was given opens nothing any more, on every node (docs/security.md)."""
    from server.app import create_app
    from tests.support.asgi import in_process_client

    alice, fan, pal = await users(client, "alice", "fan", "pal")
    await fan.follow(alice)
    await pal.follow(alice)
    post = await _post_with_image(alice, "followers")
    async with in_process_client(create_app(settings)) as two:  # a second node on the same database and Redis
        url = (await fan.get(f"{API}/posts/{post['id']}")).json()["media"][0]["url"]
        res = await client.get(url)
        assert res.status_code == 200 and res.headers["cache-control"].startswith("private")
        # alice blocks the fan: the URL, an hour or more before its expiry, opens nothing here or on the other node
        assert (await alice.post(f"{API}/users/{fan.username}/block")).status_code in (200, 204)
        await _gone(client, url)
        await _gone(two, url)
        # pal reads the post and opens its image through the other node, then unfollows there
        pals = (await pal.get(f"{API}/posts/{post['id']}")).json()["media"][0]["url"]
        assert (await two.get(pals)).status_code == 200
        assert (await two.delete(f"{API}/users/alice/follow", headers=pal.headers)).status_code in (200, 204)
        await _gone(two, pals)
        await _gone(client, pals)
        # the author's own URL still opens
        mine = (await alice.get(f"{API}/posts/{post['id']}")).json()["media"][0]["url"]
        assert (await two.get(mine)).status_code == 200


async def test_a_live_post_event_carries_image_urls_bound_to_its_recipient(client):
    """The ``post.created`` a follower gets live holds URLs bound to that follower, not to the author."""
    alice, fan = await users(client, "alice", "fan")
    await fan.follow(alice)
    async with connect(client, fan.token) as ws:
        assert (await ws.subscribe(f"timeline:home:{fan.id}"))["type"] == "subscribed"
        post = await _post_with_image(alice, "followers")
        event = await ws.event()
        assert event["event"] == "post.created" and event["data"]["id"] == post["id"]
        url = event["data"]["media"][0]["url"]
        assert parse_qs(urlsplit(url).query)["sig"][0].split("-")[1] == fan.id
        assert (await client.get(url)).status_code == 200
        assert (await alice.post(f"{API}/users/{fan.username}/block")).status_code in (200, 204)
        await _gone(client, url)


async def test_a_public_image_is_cached_an_hour_and_refused_at_once_when_no_longer_public(client):
    """Public images said nothing about caching (a CDN could pick any lifetime); they answer an hour now, and the
    origin stops serving the plain URL as soon as the author goes private or deletes the post."""
    (alice,) = await users(client, "alice")
    post = await _post_with_image(alice, "public")
    url = post["media"][0]["url"]
    assert "sig=" not in url
    res = await client.get(url)
    assert res.status_code == 200 and res.headers["cache-control"] == "public, max-age=3600"
    assert (await alice.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
    await _gone(client, url)
    assert (await alice.patch(f"{API}/users/me", json={"is_private": False})).status_code == 200
    assert (await client.get(url)).status_code == 200
    assert (await alice.delete(f"{API}/posts/{post['id']}")).status_code == 204
    await _gone(client, url)


async def test_a_block_on_one_node_closes_a_url_the_other_node_remembers_as_allowed(client, settings):
    """Each node caches "may this viewer open it" for a few seconds; a block made on node A now reaches node B's
    cache through the re-check event (``sys:recheck``). Before, node B kept serving the blocked viewer's URL
    from its cache until the entry aged out (docs/security.md, "Signed media and video URLs")."""
    import json

    from server.app import create_app
    from tests.support.asgi import in_process_client

    alice, fan = await users(client, "alice", "fan")
    await fan.follow(alice)
    post = await _post_with_image(alice, "followers")
    channel = f"post:{post['id']}"
    async with in_process_client(create_app(settings)) as two:  # node B on the same database and Redis
        url = (await fan.get(f"{API}/posts/{post['id']}")).json()["media"][0]["url"]
        assert (await two.get(url)).status_code == 200  # node B now remembers that the fan may open it
        async with connect(two, fan.token) as ws:  # only to know when node B has taken in the re-check
            assert (await ws.subscribe(channel))["type"] == "subscribed"
            assert (await alice.post(f"{API}/users/{fan.username}/block")).status_code in (200, 204)  # on node A
            for _ in range(50):
                frame = json.loads(await ws.ws.receive_text(timeout=10))
                if frame["type"] == "unsubscribed" and frame["channel"] == channel:
                    break
            else:
                raise AssertionError("node B never re-checked the fan's subscription")
        await _gone(two, url)
