"""View heartbeats, the view rules, and the owner's analytics."""

from __future__ import annotations

from typing import Any

from tests.integration.social.helpers import signup
from tests.integration.video.helpers import creator, upload, wait_status


async def beat(actor: Any, video_id: str, session: str, position: float, watched: float) -> None:
    res = await actor.post(
        f"/api/v1/videos/{video_id}/views", json={"session_id": session, "position": position, "watched": watched}
    )
    assert res.status_code == 204, res.text


async def test_views_count_after_3s_once_per_session_and_viewer_per_day(client: Any, tmp_path: Any) -> None:
    from tests.support import media

    cara = await creator(client)
    viewer = await signup(client, "viewer")
    other = await signup(client, "other")
    data = media.clip(tmp_path / "ten.mp4", seconds=10, size="320x180", audio=False).read_bytes()
    video = await upload(cara, data)
    vid = (await wait_status(cara, video["id"]))["id"]
    await beat(viewer, vid, "session-one", 2.0, 2.0)
    analytics = (await cara.get(f"/api/v1/videos/{vid}/analytics")).json()
    assert analytics["views"] == 0 and analytics["watch_time"] == 2.0  # not yet 3 s
    await beat(viewer, vid, "session-one", 4.0, 4.0)
    await beat(viewer, vid, "session-one", 6.0, 6.0)  # same session: still one view
    assert (await client.get(f"/api/v1/videos/{vid}")).json()["view_count"] == 1
    await beat(viewer, vid, "session-two", 3.5, 3.5)  # a second session of the same viewer within 24 h
    await beat(other, vid, "session-xyz", 10.0, 10.0)
    await beat(other, vid, "session-one", 9.0, 9.0)  # someone else's session id is never merged into it
    got = (await client.get(f"/api/v1/videos/{vid}")).json()
    assert got["view_count"] == 2  # viewer once (per 24 h) + other
    analytics = (await cara.get(f"/api/v1/videos/{vid}/analytics")).json()
    assert analytics["views"] == 3 and analytics["unique_viewers"] == 2
    assert analytics["watch_time"] == 6.0 + 3.5 + 10.0
    assert analytics["average_view_duration"] == round((6.0 + 3.5 + 10.0) / 3, 3)
    retention = analytics["retention"]
    assert len(retention) == 20
    assert retention[0] == 100.0  # everyone saw the start
    assert retention[19] == round(100 / 3, 2)  # only the 10 s session reached the last 5 %
    assert retention == sorted(retention, reverse=True)
    # owner only
    assert (await viewer.get(f"/api/v1/videos/{vid}/analytics")).status_code == 403
    assert (await client.get(f"/api/v1/videos/{vid}/analytics")).status_code == 401


async def test_bad_heartbeats(client: Any, clips: dict[str, bytes]) -> None:
    cara = await creator(client)
    video = await upload(cara, clips["noaudio"])
    await wait_status(cara, video["id"])
    url = f"/api/v1/videos/{video['id']}/views"
    assert (await client.post(url, json={"session_id": "short", "position": 1, "watched": 1})).status_code == 422
    bad = {"session_id": "session-1", "position": -1, "watched": 1}
    assert (await client.post(url, json=bad)).status_code == 422
    assert (await client.post("/api/v1/videos/123/views", json={**bad, "position": 1})).status_code == 404
    # anonymous viewers count too (by a hash of their address)
    ok = await client.post(url, json={"session_id": "anon-session", "position": 1, "watched": 1})
    assert ok.status_code == 204
    assert (await client.get(f"/api/v1/videos/{video['id']}")).json()["view_count"] == 1
