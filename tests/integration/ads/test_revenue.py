"""Spend batches into PostgreSQL: applied once, revenue events, the admin revenue view."""

from __future__ import annotations

from typing import Any

import msgspec

from server import db, sql
from server.ads import queries
from tests.integration.ads.helpers import advertiser, home, live, moderator, report, viewer_with_posts
from tests.integration.social.helpers import signup


async def test_spend_reaches_postgres_once_with_an_ads_spend_event_and_the_admin_view(app: Any, client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    campaign = await live(adv, mod, bid_cpm=1_500)
    reader = await viewer_with_posts(client, "reader")
    for _ in range(3):
        ad = (await home(reader))["ads"][0]["ad"]
        assert (await reader.post("/api/v1/ads/impressions", json={"token": ad["impression_token"]})).status_code == 204

    got = await report(adv, campaign["id"])  # flushes first
    # 3 impressions at 1,500 per 1,000 = 4.5, reported in whole minor units (rounded down).
    assert (got["impressions"], got["spend"], got["ecpm"]) == (3, 4, 1_500)
    events = await sql.fetch("SELECT channel, data FROM outbox_events WHERE event = 'ads.spend'")
    assert len(events) == 1 and events[0]["channel"] == f"user:{adv.id}"
    data = events[0]["data"]
    data = msgspec.json.decode(data) if isinstance(data, str) else data
    assert (data["campaign_id"], data["amount"], data["currency"]) == (campaign["id"], 4, "usd")

    # ... and into the payments ledger: the advertiser charged, the platform's ad revenue credited.
    from server.payments import ledger

    assert await ledger.balance(ledger.advertiser_account(int(adv.id)), "usd") == 4
    assert await ledger.balance(ledger.ADS_REVENUE, "usd") == -4
    assert await ledger.check() == []

    # A batch key seen before is not applied again.
    rows = await sql.fetch("SELECT batch_key, lines FROM ad_spend_batches")
    assert len(rows) == 1
    async with db.transaction():
        assert await queries.apply_batch(rows[0]["batch_key"], []) is None
    assert (await report(adv, campaign["id"]))["impressions"] == 3
    assert await ledger.balance(ledger.ADS_REVENUE, "usd") == -4

    admin = await signup(client, "boss", role="admin")
    assert (await adv.get("/api/v1/ads/revenue")).status_code == 403
    view = (await admin.get("/api/v1/ads/revenue")).json()
    assert view["totals"] == [{"currency": "usd", "impressions": 3, "clicks": 0, "revenue": 4, "ecpm": 1_500}]
    assert [(c["campaign_id"], c["advertiser"], c["spend"]) for c in view["items"]] == [(campaign["id"], "acme", 4)]
