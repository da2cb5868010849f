"""Finding 12 (media): images of followers-only, private and deleted posts only through signed, expiring URLs."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from PIL import Image

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
    assert "sig" in parse_qs(parts.query) and "exp" in parse_qs(parts.query), url
    assert (await client.get(url)).status_code == 200  # the signed URL works for whoever was given it
    bare = parts.path
    assert (await client.get(bare)).status_code in (403, 404)  # the bare path is not enough
    q = parse_qs(parts.query)
    forged = f"{bare}?exp={q['exp'][0]}&sig={'0' * len(q['sig'][0])}"
    assert (await client.get(forged)).status_code in (403, 404)
    expired = f"{bare}?exp=1000&sig={q['sig'][0]}"
    assert (await client.get(expired)).status_code in (403, 404)


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
