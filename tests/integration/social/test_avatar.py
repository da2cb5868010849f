"""Avatar upload: content-checked, resized, metadata stripped, size-limited."""

from __future__ import annotations

import io

from PIL import Image

from tests.integration.social.helpers import users

API = "/api/v1"


def _jpeg_with_exif(size: tuple[int, int] = (1200, 800)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x9286] = "secret comment"
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_avatar_is_resized_and_stripped(client):
    (alice,) = await users(client, "alice")
    raw = _jpeg_with_exif()
    assert b"SpyCam" in raw
    res = await alice.put(f"{API}/users/me/avatar", files={"data": ("me.txt", raw, "text/plain")})
    assert res.status_code == 200, res.text
    url = res.json()["avatar_url"]
    assert url.startswith("/media/avatars/")
    assert (await client.get(f"{API}/users/alice")).json()["avatar_url"] == url
    served = await client.get(url)
    assert served.status_code == 200 and b"SpyCam" not in served.content
    img = Image.open(io.BytesIO(served.content))
    assert img.size == (400, 400) and not img.getexif()


async def test_bad_avatars_change_nothing(client, app):
    (alice,) = await users(client, "alice")
    png_named_jpg = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png_named_jpg, "BMP")
    for content in (b"not an image at all", b"\x89PNG\r\n\x1a\n garbage", png_named_jpg.getvalue()):
        res = await alice.put(f"{API}/users/me/avatar", files={"data": ("a.png", content, "image/png")})
        assert res.status_code == 422 and res.json()["code"] == "validation_error"
    import msgspec

    rt = app.state.social
    rt.settings = msgspec.structs.replace(rt.settings, avatar_max_bytes=10_000)
    big = await alice.put(
        f"{API}/users/me/avatar", files={"data": ("a.jpg", _jpeg_with_exif((3000, 3000)), "image/jpeg")}
    )
    assert big.status_code == 413 and big.json()["code"] == "too_large"
    assert (await client.get(f"{API}/users/alice")).json()["avatar_url"] is None
    assert (await client.put(f"{API}/users/me/avatar", files={"data": ("a", b"x", "image/png")})).status_code == 401


async def test_post_images_attach_once_and_only_to_their_owner(client):
    alice, bob = await users(client, "alice", "bob")
    up = await alice.post(f"{API}/posts/media", files={"data": ("x.bin", _jpeg_with_exif((3000, 1500)), "image/jpeg")})
    assert up.status_code == 201, up.text
    media = up.json()
    assert media["width"] == 2048 and media["height"] == 1024
    served = await client.get(media["url"])
    assert served.status_code == 200 and b"SpyCam" not in served.content
    # Someone else's upload: 422 and no post is created.
    stolen = await bob.post(f"{API}/posts", json={"text": "mine now", "media_ids": [media["id"]]})
    assert stolen.status_code == 422
    assert (await client.get(f"{API}/users/bob")).json()["posts_count"] == 0
    post = await alice.post(f"{API}/posts", json={"text": "look", "media_ids": [media["id"]]})
    # The upload answer's URL is signed (only the uploader can open it until it is posted); once on a
    # public post the same file has its plain URL.
    plain = {**media, "url": media["url"].split("?", 1)[0]}
    assert post.status_code == 201 and post.json()["media"] == [plain]
    assert (await client.get(f"{API}/posts/{post.json()['id']}")).json()["media"] == [plain]
    assert (await client.get(plain["url"])).status_code == 200
    again = await alice.post(f"{API}/posts", json={"text": "reuse", "media_ids": [media["id"]]})
    assert again.status_code == 422  # already attached
    bad = await alice.post(f"{API}/posts/media", files={"data": ("a.jpg", b"GIF89a nonsense", "image/gif")})
    assert bad.status_code == 422
    too_many = await alice.post(f"{API}/posts", json={"text": "x", "media_ids": ["1", "2", "3", "4", "5"]})
    assert too_many.status_code == 422
