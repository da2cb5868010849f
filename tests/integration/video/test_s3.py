"""The S3 storage backend against moto's S3 server (a real S3-protocol server in its own process)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.nodes import free_port
from tests.integration.video.helpers import app_client, creator, path_of, upload, wait_status

BUCKET = "sf-videos"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **CREDENTIALS},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        import boto3

        boto3.client("s3", endpoint_url=url, **_boto_kwargs()).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _boto_kwargs() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def _keys(url: str, prefix: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=url, **_boto_kwargs())
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


async def test_videos_are_stored_in_and_served_from_s3(
    s3_server: str,
    clean_db: None,
    redis_client: Any,
    clips: dict[str, bytes],
    data_dir: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in CREDENTIALS.items():  # boto3's own credential chain (not the app's settings)
        monkeypatch.setenv(name, value)
    async with app_client(settings, storage_url=f"s3://{BUCKET}/media", s3_endpoint_url=s3_server) as client:
        cara = await creator(client)
        video = await upload(cara, clips["small"])
        ready = await wait_status(cara, video["id"])
        assert ready["status"] == "ready", ready
        keys = _keys(s3_server, f"media/{video['id']}/")
        assert f"media/{video['id']}/master.m3u8" in keys and f"media/{video['id']}/poster.jpg" in keys
        assert any(re.fullmatch(rf"media/{video['id']}/240p/seg_\d+\.ts", k) for k in keys)
        assert not (data_dir / "media" / "videos" / video["id"]).exists()  # nothing kept locally
        assert not (data_dir / "uploads" / f"{video['id']}.part").exists()  # the staged upload is gone
        play = (await cara.get(f"/api/v1/videos/{video['id']}/playback")).json()
        master = await client.get(path_of(play["hls_url"]))
        assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text
        base = path_of(play["hls_url"]).rsplit("/", 1)[0]
        variant = await client.get(f"{base}/240p/index.m3u8")
        seg_name = re.search(r"^(seg_\d+\.ts)$", variant.text, re.M).group(1)  # type: ignore[union-attr]
        seg = await client.get(f"{base}/240p/{seg_name}")
        assert seg.status_code == 200 and seg.content[:1] == b"\x47"
        part = await client.get(f"{base}/240p/{seg_name}", headers={"Range": "bytes=0-187"})
        assert part.status_code == 206 and part.content == seg.content[:188]
        assert (await client.get(f"{base}/240p/seg_999.ts")).status_code == 404
        assert (await cara.delete(f"/api/v1/videos/{video['id']}")).status_code == 204
        assert _keys(s3_server, f"media/{video['id']}/") == []
