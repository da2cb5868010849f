"""Routes taking an id in the path answer 404 (or 403 for a media signature) to "³", never a 500."""

from __future__ import annotations

from typing import Any

from tests.integration.social.helpers import signup


async def test_superscript_digits_in_ids_are_not_found(client: Any) -> None:
    user = await signup(client, "fuzz")
    for path in [
        "/api/v1/videos/%C2%B3",
        "/api/v1/videos/%C2%B3/analytics",
        "/api/v1/videos/%C2%B3/playback",
        "/api/v1/posts/%C2%B3",
        "/api/v1/live/%C2%B3",
        "/api/v1/exports/%C2%B3/download?expires=1&signature=x",
    ]:
        res = await user.get(path)
        assert res.status_code in (404, 422), (path, res.status_code, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
    assert (await user.delete("/api/v1/push-tokens/%C2%B3")).status_code == 404
    media = await client.get("/media/videos/1/%C2%B3-abc/master.m3u8")
    assert media.status_code in (403, 404)
