"""Campaign rules: every bad input named by the issue, who may do what, review and edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.ads.helpers import advertiser, body, create, live, moderator
from tests.integration.social.helpers import signup

NOW = datetime.now(UTC)


BAD = [
    {"end_at": (NOW - timedelta(days=2)).isoformat(), "start_at": (NOW - timedelta(days=1)).isoformat()},
    {"end_at": (NOW + timedelta(days=1)).isoformat(), "start_at": (NOW + timedelta(days=1)).isoformat()},
    {"budget_total": 0},
    {"budget_total": -500},
    {"budget_daily": 0},
    {"bid_cpm": 0},
    {"budget_total": 100, "budget_daily": 200},
    {"creative": {"headline": "h", "text": "t", "click_url": "http://shop.example/socks"}},
    {"creative": {"headline": "h", "text": "t", "click_url": "javascript:alert(1)"}},
    {"creative": {"headline": "h", "text": "t", "click_url": "https://"}},
    {"targeting": {"hashtags": ["two words"]}},
    {"targeting": {"hashtags": ["#"]}},
    {"targeting": {"hashtags": ["bad-tag!"]}},
    {"targeting": {"platforms": ["smart-fridge"]}},
    {"targeting": {"languages": ["english"]}},
    {"currency": "US"},
    {"budget_total": 12.5},
    {"frequency_cap": {"impressions": 0, "hours": 24}},
    {"start_at": "2030-01-01T00:00:00"},  # no time zone
    {"creative": {"headline": "h", "text": "t", "click_url": "https://a.example", "image_id": "123"}},
]


async def test_bad_campaigns_are_422_and_nothing_is_stored(client: Any) -> None:
    # One app for every case (an app per case would cost a second each).
    adv = await advertiser(client, "acme")
    for over in BAD:
        res = await adv.post("/api/v1/ads/campaigns", json=body(**over))
        assert res.status_code == 422, (over, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
        assert res.json()["code"] == "validation_error"
    assert (await adv.get("/api/v1/ads/campaigns")).json()["items"] == []


async def test_non_advertiser_cannot_create_a_campaign(client: Any) -> None:
    plain = await signup(client, "plain")
    res = await plain.post("/api/v1/ads/campaigns", json=body())
    assert res.status_code == 403 and res.json()["code"] == "forbidden"
    anonymous = await client.post("/api/v1/ads/campaigns", json=body())
    assert anonymous.status_code == 401


async def test_another_advertisers_campaign_is_404_everywhere(client: Any) -> None:
    acme, rival = await advertiser(client, "acme"), await advertiser(client, "rival")
    campaign = await create(acme)
    path = f"/api/v1/ads/campaigns/{campaign['id']}"
    assert (await rival.get(path)).status_code == 404
    assert (await rival.patch(path, json={"status": "paused"})).status_code == 404
    assert (await rival.get(f"{path}/report")).status_code == 404
    assert (await rival.get("/api/v1/ads/campaigns")).json()["items"] == []
    assert (await acme.get(path)).json()["name"] == "Autumn sale"
    assert (await acme.get("/api/v1/ads/campaigns/not-an-id")).status_code == 404


async def test_review_is_for_moderators_and_admins_and_happens_once(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    first, _second = await create(adv, name="first"), await create(adv, name="second")
    assert (await adv.post(f"/api/v1/ads/campaigns/{first['id']}/approve")).status_code == 403
    assert (await adv.get("/api/v1/ads/review")).status_code == 403

    queue = (await mod.get("/api/v1/ads/review", params={"limit": 1})).json()
    assert [c["name"] for c in queue["items"]] == ["first"] and queue["next_cursor"]
    rest = (await mod.get("/api/v1/ads/review", params={"limit": 1, "cursor": queue["next_cursor"]})).json()
    assert [c["name"] for c in rest["items"]] == ["second"]
    assert (await mod.get("/api/v1/ads/review", params={"limit": 0})).status_code == 422

    assert (await mod.post(f"/api/v1/ads/campaigns/{first['id']}/approve")).json()["status"] == "active"
    again = await mod.post(f"/api/v1/ads/campaigns/{first['id']}/reject", json={"reason": "late"})
    assert again.status_code == 409
    assert (await mod.post("/api/v1/ads/campaigns/99999/approve")).status_code == 404
    assert [c["name"] for c in (await mod.get("/api/v1/ads/review")).json()["items"]] == ["second"]


async def test_advertiser_edits_budget_and_bid_but_cannot_self_approve(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    pending = await create(adv)
    path = f"/api/v1/ads/campaigns/{pending['id']}"
    assert (await adv.patch(path, json={"status": "active"})).status_code == 409
    assert (await adv.patch(path, json={"status": "ended"})).status_code == 422
    assert (await adv.patch(path, json={"budget_total": 0})).status_code == 422
    assert (await adv.patch(path, json={"budget_daily": 20_000})).status_code == 422  # above the total

    campaign = await live(adv, mod)
    path = f"/api/v1/ads/campaigns/{campaign['id']}"
    res = await adv.patch(path, json={"budget_total": 50_000, "budget_daily": 5_000, "bid_cpm": 3_000})
    assert res.status_code == 200
    got = res.json()
    assert (got["budget_total"], got["budget_daily"], got["bid_cpm"], got["status"]) == (50_000, 5_000, 3_000, "active")
    assert (await adv.patch(path, json={"budget_daily": None})).json()["budget_daily"] is None
    listed = (await adv.get("/api/v1/ads/campaigns")).json()["items"]
    assert [c["id"] for c in listed] == [campaign["id"], pending["id"]]
