"""The admin panel's live tables and the "End live stream" form: the room hears ``live.ended``, the key
is refused from then on, and the change is audited."""

from __future__ import annotations

from typing import Any

from models.accounts import AuditEvent
from tests.integration.live.conftest import HOOK_SECRET
from tests.integration.live.helpers import control_api, creator, drop_request, go_live, hook, new_stream
from tests.integration.ops.test_admin_panel import form, panel_login
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup, signup_via_api

API = "/api/v1"


async def test_staff_see_streams_and_end_a_live_one_in_the_panel(live: Any) -> None:
    mod = await signup_via_api(live, "mod", role="moderator")
    olga = await creator(live, "olga")
    bob = await signup(live, "bob")
    stream = await go_live(live, olga, title="Late show")
    sid = stream["id"]

    await panel_login(live, "mod")
    rows = (await live.get("/admin/api/tables/live_streams/?__readable=true")).json()["rows"]
    assert [(str(r["id"]), r["title"], r["status"]) for r in rows] == [(sid, "Late show", "live")]
    assert all("key_hash" not in r or r["key_hash"] is None for r in rows)  # the key's hash is not shown

    async with connect(live, bob.token) as ws:
        assert (await ws.subscribe(f"live:{sid}"))["type"] == "subscribed"
        res = await form(live, "end-live-stream", {"id": sid, "reason": "terms of service"})
        assert res.status_code == 200, res.text
        frame = await ws.event()
        # Bob's arrival may be counted first, and go_live's live.started may reach him after his subscribe:
        # the outbox relay publishes it on its own task, after the hook's commit.
        while frame["event"] in ("viewers", "live.started"):
            frame = await ws.event()
        assert (frame["event"], frame["data"]["status"]) == ("live.ended", "ended")

    assert (await bob.get(f"{API}/live/{sid}")).json()["status"] == "ended"
    assert sid not in [s["id"] for s in (await bob.get(f"{API}/live")).json()["items"]]
    refused = await hook(live, "publish", stream["ingest"]["stream_key"])  # the encoder tries again
    assert refused.status_code == 403
    again = await form(live, "end-live-stream", {"id": sid})
    assert again.status_code == 422 and "no idle or live stream" in again.json()["custom_form_error"]

    changes = (
        await AuditEvent.select(AuditEvent.actor, AuditEvent.user, AuditEvent.details)
        .where(AuditEvent.action == "admin_change")
        .output(load_json=True)
    )
    assert [(c["actor"], c["user"], c["details"]["change"], c["details"]["stream_id"]) for c in changes] == [
        (int(mod.id), int(olga.id), "live_ended", sid)
    ]


async def test_ending_a_live_stream_in_the_panel_cuts_its_publisher(make_live: Any) -> None:
    async with control_api() as (url, heads), make_live(control_url=url) as client:
        await signup_via_api(client, "mod", role="moderator")
        olga = await creator(client, "olga")
        idle = await new_stream(olga, title="never started")
        stream = await go_live(client, olga)  # nginx's on_publish said clientid 7
        await panel_login(client, "mod")
        assert (await form(client, "end-live-stream", {"id": idle["id"]})).status_code == 200
        assert heads == []  # an idle stream has no publisher to cut
        assert (await form(client, "end-live-stream", {"id": stream["id"]})).status_code == 200
        assert [drop_request(h) for h in heads] == [("GET /control/drop/publisher?clientid=7 HTTP/1.1", HOOK_SECRET)]
