"""Probe + transcode jobs: the HLS ladder, posters, storyboards, refusals, live progress, cancel, recovery."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx_ws

from tests.integration.video.helpers import create_video, creator, path_of, tus_create, tus_patch, upload, wait_status


async def fetch(client: Any, url: str, **headers: str) -> Any:
    return await client.get(path_of(url), headers=headers)


async def test_ready_video_has_a_full_ladder_up_to_the_source(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    video = await upload(cara, clips["wide"])  # 854x480
    ready = await wait_status(cara, video["id"])
    assert ready["status"] == "ready", ready
    assert (ready["width"], ready["height"]) == (854, 480) and 0.9 < ready["duration"] < 1.2
    assert [r["height"] for r in ready["renditions"]] == [240, 360, 480]
    assert all(r["bandwidth"] > 0 for r in ready["renditions"])
    play = (await cara.get(f"/api/v1/videos/{video['id']}/playback")).json()
    assert play["expires_at"] is None  # a public video's files need no signature
    master = await fetch(client, play["hls_url"])
    assert master.status_code == 200 and master.headers["content-type"] == "application/vnd.apple.mpegurl"
    streams = re.findall(r"#EXT-X-STREAM-INF:(.*)\n(.*)", master.text)
    assert len(streams) == 3
    base = play["hls_url"].rsplit("/", 1)[0]
    for attrs, uri in streams:
        assert re.search(r"BANDWIDTH=\d+", attrs) and 'CODECS="avc1.' in attrs and "mp4a.40.2" in attrs
        _, height = map(int, re.search(r"RESOLUTION=(\d+)x(\d+)", attrs).groups())  # type: ignore[union-attr]
        assert height <= 480
        variant = await fetch(client, f"{base}/{uri}")
        assert variant.status_code == 200 and "#EXT-X-ENDLIST" in variant.text
        segments = re.findall(r"^(seg_\d+\.ts)$", variant.text, re.M)
        assert segments
        seg_url = f"{base}/{uri.rsplit('/', 1)[0]}/{segments[0]}"
        seg = await fetch(client, seg_url)
        assert seg.status_code == 200 and seg.headers["content-type"] == "video/mp2t"
        assert seg.content[:1] == b"\x47"  # MPEG-TS sync byte
        assert seg.headers["cache-control"] == "public, max-age=3600" and seg.headers["etag"]
        part = await fetch(client, seg_url, Range="bytes=188-375")
        assert part.status_code == 206 and part.content == seg.content[188:376]
        assert part.headers["content-range"] == f"bytes 188-375/{len(seg.content)}"
        tail = await fetch(client, seg_url, Range="bytes=-100")
        assert tail.status_code == 206 and tail.content == seg.content[-100:]
        assert (await fetch(client, seg_url, Range=f"bytes={len(seg.content)}-")).status_code == 416
        assert (await fetch(client, seg_url, **{"If-None-Match": seg.headers["etag"]})).status_code == 304
    poster = await fetch(client, ready["thumbnail_url"])
    assert (
        poster.status_code == 200
        and poster.headers["content-type"] == "image/jpeg"
        and poster.content[:2] == b"\xff\xd8"
    )
    vtt = await fetch(client, ready["storyboard_url"])
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT") and "#xywh=" in vtt.text
    sheet = re.search(r"(storyboard_\d+\.jpg)#", vtt.text).group(1)  # type: ignore[union-attr]
    assert (await fetch(client, f"{base}/{sheet}")).status_code == 200
    head = await client.head(path_of(play["hls_url"]))
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(master.content)


async def test_small_clips_never_upscale_and_odd_inputs_become_ready(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    one = await upload(cara, clips["one_frame"], title="one frame")
    silent = await upload(cara, clips["noaudio"], title="no audio")
    one_ready = await wait_status(cara, one["id"])
    silent_ready = await wait_status(cara, silent["id"])
    assert one_ready["status"] == "ready" and silent_ready["status"] == "ready"
    assert [r["height"] for r in silent_ready["renditions"]] == [240]
    play = (await cara.get(f"/api/v1/videos/{silent['id']}/playback")).json()
    master = (await fetch(client, play["hls_url"])).text
    assert 'CODECS="avc1.64001e"' in master  # no audio track advertised


async def test_not_a_video_fails_with_a_reason(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    cases = {"random": clips["random"], "png": clips["png"], "truncated": clips["truncated"]}
    videos = {name: await upload(cara, data, title=name) for name, data in cases.items()}
    for name, video in videos.items():
        done = await wait_status(cara, video["id"])
        assert done["status"] == "failed", (name, done)
        assert done["failure_reason"] == "not_a_video", (name, done)
        res = await cara.get(f"/api/v1/videos/{video['id']}/playback")
        assert res.status_code == 409 and res.json()["code"] == "not_ready"


async def test_a_truncated_faststart_mp4_fails(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    video = await upload(cara, clips["truncated_faststart"])
    done = await wait_status(cara, video["id"])
    assert done["status"] == "failed" and done["failure_reason"] in ("truncated", "not_a_video", "transcode_failed")


async def test_progress_and_ready_reach_the_owner_live_with_a_notification(
    client: Any, clips: dict[str, bytes]
) -> None:
    cara = await creator(client)
    other = await creator(client, "olga")
    video = await create_video(cara)
    channel = f"video:{video['id']}"
    async with httpx_ws.aconnect_ws("/api/v1/ws", client) as ws:
        await ws.send_json({"type": "auth", "id": 1, "token": cara.token})
        assert (await ws.receive_json())["type"] == "ready"
        await ws.send_json({"type": "subscribe", "id": 2, "channel": channel})
        assert (await ws.receive_json())["type"] == "subscribed"
        data = clips["small"]
        url = (await tus_create(cara, video, len(data))).headers["location"]
        assert (await tus_patch(cara, url, 0, data)).status_code == 204
        events = []
        while not events or events[-1]["event"] not in ("video.ready", "video.failed"):
            frame = await asyncio.wait_for(ws.receive_json(), 60)
            if frame["type"] == "event" and frame["channel"] == channel:
                events.append(frame)
    names = [e["event"] for e in events]
    assert names[0] == "video.progress" and names[-1] == "video.ready", names
    assert all(e["data"]["id"] == video["id"] for e in events)
    percents = [e["data"]["percent"] for e in events if e["event"] == "video.progress"]
    assert percents == sorted(percents)
    notes = (await cara.get("/api/v1/notifications")).json()["items"]
    assert [n["type"] for n in notes] == ["video_ready"] and notes[0]["subject"]["id"] == video["id"]
    async with httpx_ws.aconnect_ws("/api/v1/ws", client) as ws:  # only the owner may follow a video's processing
        await ws.send_json({"type": "auth", "id": 1, "token": other.token})
        await ws.receive_json()
        await ws.send_json({"type": "subscribe", "id": 2, "channel": channel})
        reply = await ws.receive_json()
        assert reply["type"] == "error" and reply["code"] == "forbidden"


async def test_deleting_a_processing_video_cancels_its_job(app: Any, client: Any, tmp_path: Any) -> None:
    """Also the replay path: a file already on disk goes through the same job (``create_from_file``)."""
    from server import sql
    from server.video.processing import create_from_file
    from tests.support import media

    cara = await creator(client)
    source = media.clip(tmp_path / "long.mp4", seconds=12, size="640x360")
    video_id = await create_from_file(app.state.video, int(cara.id), "Replay", source)
    job_id = await sql.fetchval("SELECT job_id FROM videos WHERE id = $1", video_id)
    for _ in range(300):  # until ffmpeg is running
        if await sql.fetchval("SELECT status FROM procrastinate_jobs WHERE id = $1", job_id) == "doing":
            break
        await asyncio.sleep(0.05)
    assert (await cara.delete(f"/api/v1/videos/{video_id}")).status_code == 204
    status = None
    for _ in range(200):
        status = await sql.fetchval("SELECT status FROM procrastinate_jobs WHERE id = $1", job_id)
        if status not in ("todo", "doing"):
            break
        await asyncio.sleep(0.1)
    assert status in (None, "aborted", "cancelled"), status  # deleted (done jobs are) or stopped, never finished
    assert (await cara.get(f"/api/v1/videos/{video_id}")).status_code == 404
    assert not (app.state.video.storage.root / str(video_id)).exists()
    assert source.exists()  # a replay's own file is left where it was


async def test_a_crashed_workers_job_is_retried(app: Any, client: Any, clips: dict[str, bytes]) -> None:
    from server import sql
    from server.video.jobs import recover_stalled

    cara = await creator(client)
    video = await create_video(cara)
    data = clips["noaudio"]
    # The job was taken by a worker that died: status 'doing', no live worker row behind it.
    await sql.execute("UPDATE videos SET status = 'processing' WHERE id = $1", int(video["id"]))
    staged = app.state.video.uploads_dir / f"{video['id']}.part"
    staged.write_bytes(data)
    await sql.execute("UPDATE videos SET source_path = $2 WHERE id = $1", int(video["id"]), str(staged))
    await sql.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, attempts) "
        "VALUES ('video', 'video.process', $1, $2::jsonb, 'doing', 0)",
        f"video:{video['id']}",
        f'{{"video_id": {video["id"]}}}',
    )
    assert await recover_stalled(app.state.job_queue) >= 1
    assert (await wait_status(cara, video["id"]))["status"] == "ready"


async def test_a_restart_mid_transcode_loses_nothing(
    clean_db: None, redis_client: Any, tmp_path: Any, settings: Any
) -> None:
    from server import sql
    from server.video.processing import create_from_file
    from tests.integration.video.helpers import app_client
    from tests.support import media

    source = media.clip(tmp_path / "long.mp4", seconds=8, size="640x360")
    async with app_client(settings) as client:
        cara = await creator(client)
        video_id = await create_from_file(client.sf_app.state.video, int(cara.id), "Replay", source)
        job_id = await sql.fetchval("SELECT job_id FROM videos WHERE id = $1", video_id)
        for _ in range(300):
            if await sql.fetchval("SELECT status FROM procrastinate_jobs WHERE id = $1", job_id) == "doing":
                break
            await asyncio.sleep(0.05)
    # the server stopped with ffmpeg running: the video is still processing, and its job is not
    assert await sql.fetchval("SELECT status FROM videos WHERE id = $1", video_id) == "processing"
    async with app_client(settings) as client:
        cara.client = client
        done = await wait_status(cara, str(video_id))
        assert done["status"] == "ready" and [r["height"] for r in done["renditions"]] == [240, 360]
