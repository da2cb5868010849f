"""Creators, streams and the media server's calls, as the live tests need them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tests.integration.live.conftest import HOOK_SECRET
from tests.integration.social.helpers import Actor, signup

API = "/api/v1"


async def creator(client: Any, username: str) -> Actor:
    actor = await signup(client, username)
    res = await actor.post(f"{API}/creators/enroll")
    assert res.status_code == 200, res.text
    return actor


async def new_stream(owner: Actor, title: str = "Hello live", visibility: str = "public") -> dict[str, Any]:
    res = await owner.post(f"{API}/live", json={"title": title, "visibility": visibility})
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


def nginx_form(call: str, name: str, **extra: str) -> dict[str, str]:
    """What nginx-rtmp 1.2 posts (form-encoded) for ``call`` on stream ``name``."""
    app = "live" if call == "publish" else "hls"
    return {
        "app": app,
        "flashver": "FMLE/3.0 (compatible; Lavf61.7.",
        "swfurl": "",
        "tcurl": f"rtmp://127.0.0.1:1935/{app}",
        "pageurl": "",
        "addr": "127.0.0.1",
        "clientid": "7",
        "call": call,
        "name": name,
        "type": "live",
        **extra,
    }


async def hook(client: Any, event: str, name: str, secret: str | None = HOOK_SECRET, **extra: str) -> Any:
    """nginx-rtmp calling ``POST /live/hooks/{event}`` (``extra`` overrides form fields, ``call`` too)."""
    headers = {"X-Live-Hook-Secret": secret} if secret is not None else {}
    form = {**nginx_form(event, name), **extra}
    return await client.post(f"{API}/live/hooks/{event}", data=form, headers=headers)


async def go_live(client: Any, owner: Actor, **kw: Any) -> dict[str, Any]:
    """A stream its owner is publishing to (the media server accepted the key)."""
    stream = await new_stream(owner, **kw)
    res = await hook(client, "publish", stream["ingest"]["stream_key"])
    assert res.status_code == 302, res.text
    return stream


@contextlib.asynccontextmanager
async def control_api() -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in for nginx-rtmp's control API (``rtmp_control``): ``(LIVE_CONTROL_URL, request heads)``.

    It answers like nginx-rtmp's ``drop`` (200, the number of sessions dropped as text) and keeps each
    request's line and headers.
    """
    heads: list[str] = []

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append((await reader.readuntil(b"\r\n\r\n")).decode())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n1")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(control, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/control", heads
    finally:
        server.close()
        await server.wait_closed()


def drop_request(head: str) -> tuple[str, str | None]:
    """``(request line, X-Live-Hook-Secret)`` of a request the control API received."""
    line, *headers = head.split("\r\n")
    secret = next((h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("x-live-hook-secret:")), None)
    return line, secret
