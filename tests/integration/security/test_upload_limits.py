"""Finding 6: image uploads are bounded in decoded pixels, decoded off the auth pool, and orphans cleaned."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.integration.social.helpers import users

API = "/api/v1"


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


async def test_a_small_file_that_decodes_huge_is_refused_before_decoding(client):
    (alice,) = await users(client, "alice")
    bomb = _png(4000, 4000)  # 16 Mpx in a few KB: a phone photo's size but an avatar needs far less
    assert len(bomb) < 200_000
    res = await alice.put(f"{API}/users/me/avatar", files={"data": ("a.png", bomb, "image/png")})
    assert res.status_code == 422, res.text
    assert "pixels" in res.json()["detail"]
    bigger = _png(5000, 5000)  # 25 Mpx: over the bound for post images too
    res = await alice.post(f"{API}/posts/media", files={"data": ("b.png", bigger, "image/png")})
    assert res.status_code == 422, res.text
    # Ordinary pictures still work.
    ok = await alice.put(f"{API}/users/me/avatar", files={"data": ("c.png", _png(1200, 900), "image/png")})
    assert ok.status_code == 200, ok.text


async def test_uploads_never_attached_to_a_post_are_cleaned(client, app):
    (alice,) = await users(client, "alice")
    res = await alice.post(f"{API}/posts/media", files={"data": ("a.png", _png(64, 64), "image/png")})
    assert res.status_code == 201
    orphan = res.json()
    kept = (await alice.post(f"{API}/posts/media", files={"data": ("b.png", _png(64, 64), "image/png")})).json()
    assert (await alice.post(f"{API}/posts", json={"text": "with media", "media_ids": [kept["id"]]})).status_code == 201
    from server import sql

    await sql.execute("UPDATE post_media SET created_at = now() - interval '2 days'")
    social = app.state.social
    files = Path(app.state.settings.data_dir) / "media" / "images"
    assert (files / orphan["url"].split("?")[0].rsplit("/", 1)[-1]).exists()
    removed = await social.sweep_orphan_media()
    assert removed == 1
    assert not (files / orphan["url"].split("?")[0].rsplit("/", 1)[-1]).exists()
    assert (files / kept["url"].split("?")[0].rsplit("/", 1)[-1]).exists()
    late = await alice.post(f"{API}/posts", json={"text": "too late", "media_ids": [orphan["id"]]})
    assert late.status_code == 422
