"""Impressions and clicks that cannot be forged, counted once, charged never past the budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from server.ads import tokens
from tests.integration.ads.helpers import advertiser, home, live, moderator, report, viewer_with_posts


async def _served(client: Any, **campaign: Any) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    created = await live(adv, mod, **campaign)
    reader = await viewer_with_posts(client, "reader")
    ad = (await home(reader))["ads"][0]["ad"]
    return adv, reader, created, ad


async def test_forged_altered_foreign_and_expired_tokens_are_400_and_a_replay_counts_once(
    app: Any, client: Any
) -> None:
    adv, reader, campaign, ad = await _served(client)
    token = ad["impression_token"]
    body, sig = token.split(".")

    def post(actor: Any, tok: str) -> Any:
        return actor.post("/api/v1/ads/impressions", json={"token": tok})

    for forged in ["garbage", f"{body}.AAAAAAAAAAAAAAAAAAAAAA", f"{body[:-2]}xx.{sig}", f"{body}.{sig}.x", "a.b"]:
        res = await post(reader, forged)
        assert res.status_code == 400 and res.json()["code"] == "invalid_token", forged
    other = await viewer_with_posts(client, "other", posts=0)
    assert (await post(other, token)).status_code == 400  # bound to the user it was served to
    click_token = ad["click_url"].rsplit("/", 1)[1]
    assert (await post(reader, click_token)).status_code == 400  # a click token is not an impression token
    # A token issued by this server two hours ago, outside its one-hour window.
    rt = app.state["ads"]
    stale = tokens.sign(rt.token_key, tokens.IMPRESSION, int(campaign["id"]), int(reader.id), 2000, time.time() - 7200)
    assert (await post(reader, stale)).status_code == 400
    assert (await post(reader, "x" * 600)).status_code == 422

    assert [(await post(reader, token)).status_code for _ in range(3)] == [204, 204, 204]
    assert (await report(adv, campaign["id"]))["impressions"] == 1


async def test_click_redirect_forged_is_400_and_counts_once(client: Any) -> None:
    adv, _reader, campaign, ad = await _served(client)
    assert (await client.get("/api/v1/ads/click/not.signed")).status_code == 400
    impression_token = ad["impression_token"]
    assert (await client.get(f"/api/v1/ads/click/{impression_token}")).status_code == 400
    for _ in range(3):
        res = await client.get(ad["click_url"])
        assert res.status_code == 302 and res.headers["location"] == "https://shop.example/socks"
    got = await report(adv, campaign["id"])
    assert got["clicks"] == 1 and got["impressions"] == 0 and got["ctr"] == 0.0


async def test_fifty_concurrent_impressions_with_budget_for_ten_charge_exactly_ten(client: Any) -> None:
    # 1,000 per 1,000 impressions = 1 per impression; a total budget of 10 pays for 10 impressions.
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    campaign = await live(adv, mod, budget_total=10, bid_cpm=1_000, frequency_cap={"impressions": 1000, "hours": 1})
    reader = await viewer_with_posts(client, "reader")
    served = [(await home(reader))["ads"] for _ in range(50)]
    tokens_ = [ads[0]["ad"]["impression_token"] for ads in served]
    assert len(set(tokens_)) == 50

    results = await asyncio.gather(*(reader.post("/api/v1/ads/impressions", json={"token": t}) for t in tokens_))
    assert {r.status_code for r in results} == {204}
    got = await report(adv, campaign["id"])
    assert (got["impressions"], got["spend"]) == (10, 10)
    assert got["by_day"][0]["spend"] == 10
    # Budget spent: the campaign is no longer served.
    assert (await home(reader))["ads"] == []
