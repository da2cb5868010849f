"""A publisher's keep-alive connection survives an idle gap longer than uvicorn's default 5 s timeout."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


async def _publish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str, n: int) -> bytes:
    body = b'{"channel":"timeline:public","event":"bench.tick","data":{"n":%d}}' % n
    head = (
        f"POST /api/v1/realtime/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    raw = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in raw.split(b"\r\n") if line.lower().startswith(b"content-length"))
    await reader.readexactly(length)
    return raw.split(b"\r\n", 1)[0]


async def test_served_publish_connection_is_kept_across_a_six_second_pause(services: dict[str, str], database: None):
    port = free_port()
    key = os.environ["REALTIME_API_KEY"]
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "DATA_DIR": tempfile.mkdtemp(prefix="sf-ka-")}
    env.pop("HTTP_KEEPALIVE_SECONDS", None)
    log = Path(env["DATA_DIR"]) / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(600):
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await _publish(reader, writer, key, 1) == b"HTTP/1.1 200 OK"
        # Longer than uvicorn's default keep-alive (5 s), which closed the connection under the client.
        await asyncio.sleep(6)
        assert await _publish(reader, writer, key, 2) == b"HTTP/1.1 200 OK"
        writer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
