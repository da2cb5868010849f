"""Creators, tus uploads and waiting for processing, the way a client does them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from tests.integration.social.helpers import Actor, signup

TUS = {"Tus-Resumable": "1.0.0"}


async def creator(client: Any, username: str = "cara") -> Actor:
    """A user who enrolled as creator through the API."""
    actor = await signup(client, username)
    res = await actor.post("/api/v1/creators/enroll")
    assert res.status_code == 200, res.text
    return actor


async def create_video(actor: Actor, **fields: Any) -> dict[str, Any]:
    body = {"title": "Test clip", "visibility": "public", **fields}
    res = await actor.post("/api/v1/videos", json=body)
    assert res.status_code == 201, res.text
    video = res.json()
    assert video["status"] == "uploading" and video["upload_url"]
    return video  # type: ignore[no-any-return]


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def tus_create(actor: Actor, video: dict[str, Any], length: int) -> Any:
    headers = {**TUS, **actor.headers, "Upload-Length": str(length)}
    return await actor.client.post(path_of(video["upload_url"]), headers=headers)


async def tus_patch(actor: Actor, url: str, offset: int, data: bytes, **headers: str) -> Any:
    return await actor.client.patch(
        path_of(url),
        content=data,
        headers={
            **TUS,
            **actor.headers,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
            **headers,
        },
    )


async def tus_head(actor: Actor, url: str) -> Any:
    return await actor.client.head(path_of(url), headers={**TUS, **actor.headers})


def sha1_header(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324


async def upload(actor: Actor, data: bytes, chunk: int = 256 * 1024, **fields: Any) -> dict[str, Any]:
    """Create a video and send ``data`` with tus in chunks; the video (now processing)."""
    video = await create_video(actor, **fields)
    res = await tus_create(actor, video, len(data))
    assert res.status_code == 201, res.text
    url = res.headers["location"]
    offset = 0
    while offset < len(data):
        part = data[offset : offset + chunk]
        res = await tus_patch(actor, url, offset, part, **{"Upload-Checksum": sha1_header(part)})
        assert res.status_code == 204, res.text
        offset = int(res.headers["upload-offset"])
    return video


async def wait_status(
    actor: Actor, video_id: str, *, want: tuple[str, ...] = ("ready", "failed"), timeout: float = 90
) -> Any:
    """Poll the video until its status is one of ``want``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        res = await actor.get(f"/api/v1/videos/{video_id}")
        assert res.status_code == 200, res.text
        if res.json()["status"] in want:
            return res.json()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"video {video_id} stayed {res.json()['status']}")
        await asyncio.sleep(0.2)


async def wait_post(actor: Actor, video_id: str, *, timeout: float = 90) -> Any:
    """Poll a ready video until its feed post is linked (made right after it turns ready, in a transaction
    of its own)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        res = await actor.get(f"/api/v1/videos/{video_id}")
        assert res.status_code == 200, res.text
        if res.json()["post_id"]:
            return res.json()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"video {video_id} got no post")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def app_client(settings: Any, **video: Any) -> AsyncIterator[Any]:
    """A fresh app (lifespan running) on ``settings`` with ``video`` settings changed, e.g. ``max_bytes=1000``."""
    from tests.support.apps import app_for
    from tests.support.asgi import in_process_client
    from tests.support.settings import derive

    app = app_for(derive(settings, **{f"video.{name}": value for name, value in video.items()}))
    async with in_process_client(app) as client:
        yield client  # tests reach the runtime objects (client.sf_app.state.video) through it
