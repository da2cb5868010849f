"""The admin panel's video table and forms: a moderator removes a video (hidden from everyone but its owner
and staff, its feed post gone) and restores it; each change is audited."""

from __future__ import annotations

from typing import Any

from models.accounts import AuditEvent
from tests.integration.ops.test_admin_panel import csrf, form, panel_login
from tests.integration.social.helpers import signup, signup_via_api
from tests.integration.video.helpers import creator, upload, wait_post, wait_status

API = "/api/v1"


async def test_moderators_remove_and_restore_videos_in_the_panel(client: Any, clips: dict[str, bytes]) -> None:
    mod = await signup_via_api(client, "mod", role="moderator")
    cara = await creator(client)
    fan = await signup(client, "fan")
    video = await upload(cara, clips["noaudio"], title="Cat video")
    video = await wait_status(cara, video["id"])
    assert video["status"] == "ready", video
    video = await wait_post(cara, video["id"])  # the post follows "ready" in a transaction of its own
    vid = video["id"]
    assert (await fan.get(f"{API}/posts/{video['post_id']}")).status_code == 200

    await panel_login(client, "mod")
    rows = (await client.get("/admin/api/tables/videos/?__readable=true")).json()["rows"]
    assert [(str(r["id"]), r["title"], r["moderation"]) for r in rows] == [(vid, "Cat video", "approved")]
    edit = await client.patch(f"/admin/api/tables/videos/{vid}/", json={"title": "x"}, headers=csrf(client))
    assert edit.status_code == 405  # read-only: changes go through the forms

    res = await form(client, "remove-video", {"id": vid, "reason": "copyright"})
    assert res.status_code == 200, res.text
    assert (await fan.get(f"{API}/videos/{vid}")).status_code == 404
    assert (await fan.get(f"{API}/videos/{vid}/playback")).status_code == 404
    assert vid not in [v["id"] for v in (await fan.get(f"{API}/videos")).json()["items"]]
    assert (await fan.get(f"{API}/posts/{video['post_id']}")).status_code == 404  # the feed post went with it
    mine = await cara.get(f"{API}/videos/{vid}")
    assert mine.status_code == 200 and mine.json()["moderation"] == "rejected"  # the owner still sees it
    again = await form(client, "remove-video", {"id": vid})
    assert again.status_code == 422 and "already removed" in again.json()["custom_form_error"]

    res = await form(client, "restore-video", {"id": vid, "reason": "appeal upheld"})
    assert res.status_code == 200, res.text
    assert (await fan.get(f"{API}/videos/{vid}")).json()["moderation"] == "approved"
    assert (await fan.get(f"{API}/videos/{vid}/playback")).status_code == 200
    assert vid in [v["id"] for v in (await fan.get(f"{API}/videos")).json()["items"]]
    bad = await form(client, "restore-video", {"id": "12x"})
    assert bad.status_code == 422 and "not a valid id" in bad.json()["custom_form_error"]

    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.actor, AuditEvent.user, AuditEvent.details)
        .where(AuditEvent.action.is_in(["video.hidden", "video.restored"]))
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    assert [(e["action"], e["actor"], e["user"], e["details"]["reason"]) for e in events] == [
        ("video.hidden", int(mod.id), int(cara.id), "copyright"),
        ("video.restored", int(mod.id), int(cara.id), "appeal upheld"),
    ]
