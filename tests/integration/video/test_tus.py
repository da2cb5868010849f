"""tus 1.0.0: creation, offsets, limits checked before any byte, checksums, termination, expiry, restart."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from tests.integration.social.helpers import signup
from tests.integration.video.helpers import (
    TUS,
    app_client,
    create_video,
    creator,
    path_of,
    sha1_header,
    tus_create,
    tus_head,
    tus_patch,
    upload,
    wait_status,
)


async def test_options_lists_versions_extensions_and_max_size(client: Any) -> None:
    res = await client.options("/api/v1/uploads")
    assert res.status_code == 204
    assert res.headers["tus-version"] == "1.0.0"
    assert set(res.headers["tus-extension"].split(",")) == {"creation", "termination", "expiration", "checksum"}
    assert int(res.headers["tus-max-size"]) == 10 * (1 << 30)
    assert res.headers["tus-checksum-algorithm"] == "sha1"


async def test_only_creators_create_videos_and_title_is_bounded(client: Any) -> None:
    plain = await signup(client, "plain")
    res = await plain.post("/api/v1/videos", json={"title": "x", "visibility": "public"})
    assert res.status_code == 403 and res.json()["code"] == "forbidden"
    cara = await creator(client)
    res = await cara.post("/api/v1/videos", json={"title": "x" * 256, "visibility": "public"})
    assert res.status_code == 422 and res.json()["code"] == "validation_error"
    res = await cara.post("/api/v1/videos", json={"title": "ok", "visibility": "everyone"})
    assert res.status_code == 422


async def test_resumable_upload_head_patch_and_processing(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    data = clips["small"]
    video = await create_video(cara, title="My first clip", tags=["Demo", "test"])
    res = await tus_create(cara, video, len(data))
    assert res.status_code == 201
    url = res.headers["location"]
    assert path_of(url) == path_of(video["upload_url"]) and res.headers["upload-expires"]
    head = await tus_head(cara, url)
    assert head.status_code == 200 and head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(data)) and head.headers["cache-control"] == "no-store"
    half = len(data) // 2
    res = await tus_patch(cara, url, 0, data[:half])
    assert res.status_code == 204 and res.headers["upload-offset"] == str(half)
    # a client that lost track resumes from HEAD's offset; a wrong offset is a conflict and changes nothing
    res = await tus_patch(cara, url, 0, data[:half])
    assert res.status_code == 409
    assert (await tus_head(cara, url)).headers["upload-offset"] == str(half)
    res = await tus_patch(cara, url, half, data[half:])
    assert res.status_code == 204 and res.headers["upload-offset"] == str(len(data))
    got = (await cara.get(f"/api/v1/videos/{video['id']}")).json()
    assert got["status"] in ("processing", "ready") and got["tags"] == ["demo", "test"]
    ready = await wait_status(cara, video["id"])
    assert ready["status"] == "ready", ready


async def test_patch_past_length_is_refused_and_nothing_is_stored(client: Any) -> None:
    cara = await creator(client)
    video = await create_video(cara)
    url = (await tus_create(cara, video, 10)).headers["location"]
    res = await tus_patch(cara, url, 0, b"x" * 11)
    assert res.status_code == 413 and res.json()["code"] == "too_large"
    assert (await tus_head(cara, url)).headers["upload-offset"] == "0"
    res = await tus_patch(cara, url, 0, b"x" * 4)
    assert res.status_code == 204
    res = await tus_patch(cara, url, 4, b"y" * 7)
    assert res.status_code == 413
    assert (await tus_head(cara, url)).headers["upload-offset"] == "4"


async def test_over_max_size_or_quota_is_413_before_any_byte(
    data_dir: Any, clean_db: None, redis_client: Any, settings: Any
) -> None:
    async with app_client(settings, max_bytes=1000, quota_bytes=1500) as client:
        cara = await creator(client)
        assert (await client.options("/api/v1/uploads")).headers["tus-max-size"] == "1000"
        video = await create_video(cara)
        res = await tus_create(cara, video, 1001)
        assert res.status_code == 413 and res.json()["code"] == "too_large"
        assert not (data_dir / "uploads" / f"{video['id']}.part").exists()
        ok = await tus_create(cara, video, 1000)
        assert ok.status_code == 201
        second = await create_video(cara)
        res = await tus_create(cara, second, 600)  # 1000 + 600 > 1500
        assert res.status_code == 413 and "quota" in res.json()["detail"]
        assert not (data_dir / "uploads" / f"{second['id']}.part").exists()
        # a bare tus client (creation on /uploads) meets the same limits
        res = await client.post("/api/v1/uploads", headers={**TUS, **cara.headers, "Upload-Length": "5000"})
        assert res.status_code == 413


async def test_someone_elses_upload_is_not_found(client: Any) -> None:
    cara = await creator(client)
    mallory = await creator(client, "mallory")
    video = await create_video(cara)
    url = (await tus_create(cara, video, 100)).headers["location"]
    assert (await tus_patch(mallory, url, 0, b"z" * 10)).status_code == 404
    assert (await tus_head(mallory, url)).status_code == 404
    assert (await mallory.client.delete(path_of(url), headers={**TUS, **mallory.headers})).status_code == 404
    assert (await tus_head(cara, url)).headers["upload-offset"] == "0"


async def test_checksum_mismatch_discards_the_chunk(client: Any) -> None:
    cara = await creator(client)
    video = await create_video(cara)
    url = (await tus_create(cara, video, 20)).headers["location"]
    res = await tus_patch(cara, url, 0, b"a" * 10, **{"Upload-Checksum": sha1_header(b"b" * 10)})
    assert res.status_code == 460
    assert (await tus_head(cara, url)).headers["upload-offset"] == "0"
    res = await tus_patch(cara, url, 0, b"a" * 10, **{"Upload-Checksum": "md5 " + base64.b64encode(b"x" * 16).decode()})
    assert res.status_code == 400
    res = await tus_patch(cara, url, 0, b"a" * 10, **{"Upload-Checksum": sha1_header(b"a" * 10)})
    assert res.status_code == 204 and res.headers["upload-offset"] == "10"


async def test_protocol_errors(client: Any) -> None:
    cara = await creator(client)
    video = await create_video(cara)
    path = path_of(video["upload_url"])
    res = await client.post(path, headers={**cara.headers, "Upload-Length": "10"})  # no Tus-Resumable
    assert res.status_code == 412 and res.headers["tus-version"] == "1.0.0"
    res = await client.post(path, headers={**TUS, **cara.headers})  # no Upload-Length
    assert res.status_code == 400
    url = (await tus_create(cara, video, 10)).headers["location"]
    assert (await tus_create(cara, video, 10)).status_code == 409  # created once
    res = await cara.client.patch(
        path_of(url),
        content=b"abc",
        headers={**TUS, **cara.headers, "Upload-Offset": "0", "Content-Type": "text/plain"},
    )
    assert res.status_code == 415
    assert (await cara.client.head(path_of(url), headers=TUS)).status_code == 401


async def test_termination_removes_the_bytes_and_the_video(client: Any, data_dir: Any) -> None:
    cara = await creator(client)
    video = await create_video(cara)
    url = (await tus_create(cara, video, 100)).headers["location"]
    await tus_patch(cara, url, 0, b"q" * 50)
    staged = data_dir / "uploads" / f"{video['id']}.part"
    assert staged.stat().st_size == 50
    res = await cara.client.delete(path_of(url), headers={**TUS, **cara.headers})
    assert res.status_code == 204
    assert not staged.exists()
    assert (await cara.get(f"/api/v1/videos/{video['id']}")).status_code == 404


async def test_stale_uploads_expire_and_their_bytes_are_removed(
    data_dir: Any, clean_db: None, redis_client: Any, settings: Any
) -> None:
    from server.video.uploads import expire_stale

    async with app_client(settings, upload_expiry_seconds=1) as client:
        cara = await creator(client)
        video = await create_video(cara)
        url = (await tus_create(cara, video, 100)).headers["location"]
        await tus_patch(cara, url, 0, b"q" * 30)
        staged = data_dir / "uploads" / f"{video['id']}.part"
        assert staged.exists()
        await asyncio.sleep(1.2)
        assert (await tus_head(cara, url)).status_code == 410
        assert await expire_stale(client.sf_app.state.video) == 1
        assert not staged.exists()
        assert (await tus_head(cara, url)).status_code == 404


async def test_upload_survives_a_restart(
    clips: dict[str, bytes], clean_db: None, redis_client: Any, settings: Any
) -> None:
    data = clips["small"]
    half = len(data) // 3
    async with app_client(settings) as client:
        cara = await creator(client)
        video = await create_video(cara)
        url = (await tus_create(cara, video, len(data))).headers["location"]
        assert (await tus_patch(cara, url, 0, data[:half])).status_code == 204
        token = cara.headers
    async with app_client(settings) as client:  # a new process: only the database and the disk remain
        cara.client = client
        assert cara.headers == token
        head = await tus_head(cara, url)
        assert head.status_code == 200 and head.headers["upload-offset"] == str(half)
        assert (await tus_patch(cara, url, half, data[half:])).status_code == 204
        assert (await wait_status(cara, video["id"]))["status"] == "ready"


async def test_bare_tus_client_creates_the_video_from_metadata(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    data = clips["noaudio"]
    meta = (
        "filename "
        + base64.b64encode(b"holiday.mp4").decode()
        + ",visibility "
        + base64.b64encode(b"unlisted").decode()
    )
    res = await client.post(
        "/api/v1/uploads", headers={**TUS, **cara.headers, "Upload-Length": str(len(data)), "Upload-Metadata": meta}
    )
    assert res.status_code == 201, res.text
    url = res.headers["location"]
    assert (await tus_patch(cara, url, 0, data)).status_code == 204
    video_id = url.rstrip("/").rsplit("/", 1)[1]
    video = await wait_status(cara, video_id)
    assert video["title"] == "holiday.mp4" and video["visibility"] == "unlisted" and video["status"] == "ready"


async def test_upload_helper_roundtrip(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    video = await upload(cara, clips["noaudio"], chunk=10_000)
    assert (await wait_status(cara, video["id"]))["status"] == "ready"


async def test_a_metadata_video_id_past_bigint_is_not_found_not_a_500(client: Any) -> None:
    cara = await creator(client)
    for raw in (b"9223372036854775808", b"9" * 19, b"12\xc2\xb3"):  # 2**63, past bigint, a superscript digit
        meta = "video_id " + base64.b64encode(raw).decode()
        res = await client.post(
            "/api/v1/uploads", headers={**TUS, **cara.headers, "Upload-Length": "10", "Upload-Metadata": meta}
        )
        assert res.status_code == 404, (raw, res.status_code, res.text)
