"""End to end through a real media server: OBS's part played by ffmpeg, nginx-rtmp calling the app.

ffmpeg (the imageio-ffmpeg wheel) publishes a ``testsrc2`` stream over RTMP with the stream key; nginx
asks the app, which marks the stream live and redirects the publish to the stream id; the HLS playlist
appears under the id (never the key); one viewer's chat reaches another; stopping ends the stream.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest
import websockets

from tests.e2e.nodes import Node
from tests.media.nginx import Nginx

SECRET = "media-e2e-hook-secret-0123456789abcdef"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def media(
    services: dict[str, str], database: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Node, Nginx]]:
    """The app (one real uvicorn process) and nginx-rtmp pointing at each other."""
    workdir = tmp_path_factory.mktemp("nginx")
    app_port_holder = Node({})  # picks the app's port first: nginx's hook proxy needs it
    nginx = Nginx(workdir, app_port_holder.url, SECRET)
    env = {
        "DATABASE_URL": services["database_url"],
        "REDIS_URL": services["redis_url"],
        "LIVE_HOOK_SECRET": SECRET,
        "LIVE_RTMP_URL": nginx.ingest,
        "LIVE_RELAY_URL": nginx.relay,
        "LIVE_HLS_URL": nginx.hls_url,
        "LIVE_RECORDINGS_DIR": str(nginx.recordings),
    }
    node = Node(env)
    node.port, node.url, node.ws_url = app_port_holder.port, app_port_holder.url, app_port_holder.ws_url
    try:
        node.spawn()
        nginx.start()
        node.wait_ready()
        yield node, nginx
    finally:
        nginx.stop()
        node.stop()


def publish(url: str, seconds: int) -> subprocess.Popen[bytes]:
    """ffmpeg pushing a test pattern with a tone over RTMP, as OBS would (H.264 + AAC in FLV)."""
    args = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-t", str(seconds), "-f", "flv", url,
    ]  # fmt: skip
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def login(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    res = await http.post(
        "/api/v1/auth/register", json={"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    )
    assert res.status_code == 201, res.text
    tokens = (await http.post("/api/v1/auth/login", json={"login": username, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


class Room:
    """A viewer's socket subscribed to the stream's room."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws, self.n, self.pending = ws, 0, []  # type: ignore[var-annotated]

    async def call(self, frame: dict) -> dict:
        self.n += 1
        await self.ws.send(json.dumps({**frame, "id": self.n}))
        while True:
            reply = json.loads(await self.ws.recv())
            if reply.get("id") == self.n:
                return reply  # type: ignore[no-any-return]
            self.pending.append(reply)

    async def event(self, name: str, timeout: float = 30) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = self.pending.pop(0) if self.pending else json.loads(await self.ws.recv())
                if frame.get("type") == "event" and frame["event"] == name:
                    return frame  # type: ignore[no-any-return]


async def room(node: Node, headers: dict[str, str], channel: str) -> AsyncIterator[Room]:
    async with websockets.connect(node.ws_url, additional_headers=headers) as ws:
        r = Room(ws)
        assert json.loads(await ws.recv())["type"] == "ready"
        assert (await r.call({"type": "subscribe", "channel": channel}))["type"] == "subscribed"
        yield r


async def wait_for(check, seconds: float = 30):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.3)


async def test_obs_to_viewers_through_nginx_rtmp(media, clean_db, redis_client):
    node, nginx = media
    async with httpx.AsyncClient(base_url=node.url, timeout=10) as http:
        alice = await login(http, "alice")
        assert (await http.post("/api/v1/creators/enroll", headers=alice)).status_code == 200
        stream = (await http.post("/api/v1/live", json={"title": "testsrc2"}, headers=alice)).json()
        sid, key = stream["id"], stream["ingest"]["stream_key"]
        assert stream["ingest"]["rtmp_url"] == nginx.ingest
        bob, carol = await login(http, "bob"), await login(http, "carol")

        # A wrong key: nginx asks the app, gets 403 and drops the publisher.
        bad = publish(f"{nginx.ingest}/sk_not-a-real-key", 3)
        assert bad.wait(30) != 0
        assert (await http.get(f"/api/v1/live/{sid}")).json()["status"] == "idle"

        rooms = [room(node, h, f"live:{sid}") for h in (bob, carol)]
        bob_room, carol_room = await anext(rooms[0]), await anext(rooms[1])
        encoder = publish(f"{nginx.ingest}/{key}", 20)
        try:
            started = await bob_room.event("live.started")
            hls_url = started["data"]["playback"]["hls_url"]
            assert hls_url == f"{nginx.hls_url}/{sid}/index.m3u8" and key not in hls_url
            assert (await http.get(f"/api/v1/live/{sid}")).json()["status"] == "live"

            async def playlist() -> str | None:
                res = await http.get(hls_url)
                return res.text if res.status_code == 200 and ".ts" in res.text else None

            text = await wait_for(playlist)
            assert text.startswith("#EXTM3U")
            segment = next(line for line in text.splitlines() if line.endswith(".ts"))
            seg = await http.get(hls_url.rsplit("/", 1)[0] + "/" + segment)
            assert seg.status_code == 200 and len(seg.content) > 1000 and seg.content[0] == 0x47  # MPEG-TS sync
            assert all(key not in name for name in nginx.files())

            frame = {"type": "publish", "channel": f"live:{sid}", "event": "chat.message", "data": {"text": "hi all"}}
            assert (await bob_room.call(frame))["type"] == "published"
            chat = await carol_room.event("chat.message")
            assert chat["data"]["text"] == "hi all" and chat["data"]["user"]["username"] == "bob"
        finally:
            encoder.terminate()  # the broadcaster stops
            encoder.wait(20)

        ended = await carol_room.event("live.ended")
        assert ended["data"]["status"] == "ended"
        seen = (await http.get(f"/api/v1/live/{sid}")).json()
        assert seen["status"] == "ended" and seen["playback"] is None
        recordings = list(Path(nginx.recordings).glob(f"{sid}-*.flv"))
        assert recordings and recordings[0].stat().st_size > 10_000
        assert all(key not in name for name in nginx.files())

        # nginx's on_record_done hands the recording to the video pipeline: the stream's replay.
        async def replay_id() -> str | None:
            return (await http.get(f"/api/v1/live/{sid}", headers=alice)).json()["replay_video_id"]  # type: ignore[no-any-return]

        replay = await wait_for(replay_id, 60)

        async def processed() -> dict | None:  # type: ignore[type-arg]
            video = (await http.get(f"/api/v1/videos/{replay}", headers=alice)).json()
            return video if video["status"] in ("ready", "failed") else None

        video = await wait_for(processed, 180)
        assert video["status"] == "ready", video
        assert video["title"] == "testsrc2 (replay)" and video["duration"] > 0
        assert (await http.get(f"/api/v1/videos/{replay}/playback", headers=alice)).status_code == 200
        # The key of an ended stream is refused too.
        again = publish(f"{nginx.ingest}/{key}", 3)
        assert again.wait(30) != 0
        for gen in rooms:
            await gen.aclose()
