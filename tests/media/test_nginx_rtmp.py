"""End to end through a real media server: OBS's part played by ffmpeg, nginx-rtmp calling the app.

ffmpeg (the imageio-ffmpeg wheel) publishes a ``testsrc2`` stream over RTMP with the stream key; nginx
asks the app, which marks the stream live and redirects the publish to the stream id; the HLS playlist
appears under the id (never the key), served by nginx only with the signed token the app gives viewers
who may see the stream; one viewer's chat reaches another; rotating the key cuts the publisher (through
nginx-rtmp's control API), which ends the stream; the recording becomes the replay.
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
        "LIVE_CONTROL_URL": nginx.control_url,
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
        body = {"title": "testsrc2", "visibility": "followers"}
        stream = (await http.post("/api/v1/live", json=body, headers=alice)).json()
        sid, key = stream["id"], stream["ingest"]["stream_key"]
        assert stream["ingest"]["rtmp_url"] == nginx.ingest
        bob, carol, dave = await login(http, "bob"), await login(http, "carol"), await login(http, "dave")
        for fan in (bob, carol):
            assert (await http.post("/api/v1/users/alice/follow", headers=fan)).status_code in (200, 201)
        # Another stream, live without video (the app's side of a publish), whose playback dave may have.
        other = (await http.post("/api/v1/live", json={"title": "public"}, headers=alice)).json()
        form = {"call": "publish", "app": "live", "name": other["ingest"]["stream_key"], "clientid": "1"}
        res = await http.post("/api/v1/live/hooks/publish", data=form, headers={"X-Live-Hook-Secret": SECRET})
        assert res.status_code == 302

        # A wrong key: nginx asks the app, gets 403 and drops the publisher.
        bad = publish(f"{nginx.ingest}/sk_not-a-real-key", 3)
        assert bad.wait(30) != 0
        assert (await http.get(f"/api/v1/live/{sid}", headers=bob)).json()["status"] == "idle"

        rooms = [room(node, h, f"live:{sid}") for h in (bob, carol)]
        bob_room, carol_room = await anext(rooms[0]), await anext(rooms[1])
        encoder = publish(f"{nginx.ingest}/{key}", 90)
        try:
            started = await bob_room.event("live.started")
            assert started["data"]["playback"] is None  # a URL is bound to one viewer: each asks for their own
            seen = (await http.get(f"/api/v1/live/{sid}", headers=bob)).json()
            assert seen["status"] == "live"
            hls_url = seen["playback"]["hls_url"]
            base = f"{nginx.hls_url}/{sid}/"
            assert hls_url.startswith(base) and hls_url.endswith("/index.m3u8") and key not in hls_url

            async def playlist() -> str | None:
                res = await http.get(hls_url)
                return res.text if res.status_code == 200 and ".ts" in res.text else None

            text = await wait_for(playlist)
            assert text.startswith("#EXTM3U")
            segment = next(line for line in text.splitlines() if line.endswith(".ts"))
            seg = await http.get(hls_url.rsplit("/", 1)[0] + "/" + segment)
            assert seg.status_code == 200 and len(seg.content) > 1000 and seg.content[0] == 0x47  # MPEG-TS sync
            assert all(key not in name for name in nginx.files())

            # A stranger gets no URL for this followers-only stream, and nginx serves nothing without one.
            assert (await http.get(f"/api/v1/live/{sid}", headers=dave)).status_code == 404
            other_url = (await http.get(f"/api/v1/live/{other['id']}", headers=dave)).json()["playback"]["hls_url"]
            other_token = other_url.split("/")[-2]
            token = hls_url.split("/")[-2]
            forged = token[:-1] + ("A" if token[-1] != "A" else "B")
            for path in (f"{sid}/index.m3u8", f"{sid}/{segment}", f"{sid}/{other_token}/index.m3u8",
                         f"{sid}/{forged}/index.m3u8", f"{sid}/{forged}/{segment}", f"{sid}/p/index.m3u8"):  # fmt: skip
                res = await http.get(f"{nginx.hls_url}/{path}")
                assert res.status_code in (403, 404), (path, res.status_code)
            assert (await http.get(hls_url)).status_code == 200  # still fine for those who may see it

            frame = {"type": "publish", "channel": f"live:{sid}", "event": "chat.message", "data": {"text": "hi all"}}
            assert (await bob_room.call(frame))["type"] == "published"
            chat = await carol_room.event("chat.message")
            assert chat["data"]["text"] == "hi all" and chat["data"]["user"]["username"] == "bob"

            # The key leaked: rotating it cuts the publisher now (nginx-rtmp's control API), long
            # before its 90 s are over, and the stream ends as if the broadcaster had stopped.
            new = (await http.post(f"/api/v1/live/{sid}/key", headers=alice)).json()
            assert new["stream_key"] != key
            await asyncio.to_thread(encoder.wait, 30)  # cut: it would have run for another minute
        finally:
            if encoder.poll() is None:
                encoder.terminate()
                encoder.wait(20)

        ended = await carol_room.event("live.ended")
        assert ended["data"]["status"] == "ended"
        seen = (await http.get(f"/api/v1/live/{sid}", headers=bob)).json()
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
        # The rotated key is refused (and the new one too: the stream has ended).
        for stale in (key, new["stream_key"]):
            again = publish(f"{nginx.ingest}/{stale}", 3)
            assert again.wait(30) != 0
        assert (await http.get(f"/api/v1/live/{sid}", headers=bob)).json()["status"] == "ended"
        for gen in rooms:
            await gen.aclose()
