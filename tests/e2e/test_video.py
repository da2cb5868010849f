"""A real server process: enroll, upload with tus (cut off mid-PATCH, server restarted, resumed), wait for
``ready``, then fetch the master playlist, every variant playlist and a segment of each, as a player does."""

from __future__ import annotations

import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.e2e.nodes import Node
from tests.support import media

PASSWORD = "correct horse battery"
TUS = {"Tus-Resumable": "1.0.0"}


def _node(services: dict[str, str], data_dir: Path) -> Node:
    node = Node(
        {"DATABASE_URL": services["database_url"], "REDIS_URL": services["redis_url"], "DATA_DIR": str(data_dir)}
    )
    node._env["PUBLIC_URL"] = node.url  # the URLs the API hands out point at this process
    return node.start()


def _cut_off_patch(url: str, headers: dict[str, str], body: bytes, send: int) -> None:
    """A PATCH announcing ``len(body)`` bytes whose connection dies after ``send`` of them."""
    parts = urlsplit(url)
    head = [f"PATCH {parts.path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((parts.hostname, parts.port)) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:send])
        time.sleep(0.5)  # let the server write what arrived


def test_upload_restart_resume_ready_and_play_every_variant(
    services: dict[str, str], database: None, clean_db: Any
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="sf-video-e2e-"))
    clip = media.clip(data_dir / "phone.mp4", seconds=2, size="854x480").read_bytes()
    node = _node(services, data_dir)
    try:
        http = httpx.Client(base_url=node.url, timeout=30)
        res = http.post(
            "/api/v1/auth/register", json={"username": "vera", "email": "vera@example.com", "password": PASSWORD}
        )
        assert res.status_code == 201, res.text
        token = http.post("/api/v1/auth/login", json={"login": "vera", "password": PASSWORD}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert http.post("/api/v1/creators/enroll", headers=auth).status_code == 200
        video = http.post("/api/v1/videos", headers=auth, json={"title": "Phone video", "visibility": "public"}).json()
        created = http.post(video["upload_url"], headers={**TUS, **auth, "Upload-Length": str(len(clip))})
        assert created.status_code == 201
        location = created.headers["location"]
        patch_headers = {**TUS, **auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
        _cut_off_patch(location, patch_headers, clip, send=len(clip) // 2)
    finally:
        node.stop()
    node = _node(services, data_dir)  # a restart: only the database and DATA_DIR remain
    try:
        http = httpx.Client(base_url=node.url, timeout=30)
        location = f"{node.url}{urlsplit(location).path}"
        offset = int(http.head(location, headers={**TUS, **auth}).headers["upload-offset"])
        assert 0 < offset <= len(clip) // 2  # what arrived before the cut was kept
        res = http.patch(location, content=clip[offset:], headers={**patch_headers, "Upload-Offset": str(offset)})
        assert res.status_code == 204 and res.headers["upload-offset"] == str(len(clip))
        deadline = time.monotonic() + 120
        while (got := http.get(f"/api/v1/videos/{video['id']}", headers=auth).json())["status"] not in (
            "ready",
            "failed",
        ):
            assert time.monotonic() < deadline, got
            time.sleep(0.3)
        assert got["status"] == "ready", got
        hls_url = http.get(f"/api/v1/videos/{video['id']}/playback", headers=auth).json()["hls_url"]
        master = httpx.get(hls_url, timeout=30)  # a player: no credentials
        assert master.status_code == 200
        variants = re.findall(r"^(\S+\.m3u8)$", master.text, re.M)
        assert len(variants) == 3  # 240p, 360p, 480p for a 480p source
        base = hls_url.rsplit("/", 1)[0]
        for uri in variants:
            playlist = httpx.get(f"{base}/{uri}", timeout=30)
            assert playlist.status_code == 200
            segment = re.search(r"^(\S+\.ts)$", playlist.text, re.M).group(1)  # type: ignore[union-attr]
            seg = httpx.get(f"{base}/{uri.rsplit('/', 1)[0]}/{segment}", headers={"Range": "bytes=0-999"}, timeout=30)
            assert seg.status_code == 206 and len(seg.content) == 1000 and seg.content[0] == 0x47
    finally:
        node.stop()
