"""Active ad campaigns for the feed benchmark: ``python -m bench.sf_ads COUNT`` prints JSON {campaigns}.

Run with the server's own DATABASE_URL. Rows go straight in as ``active`` (as if each had been created
and approved through the API), with budgets and frequency caps large enough to keep serving for the whole
run, a spread of bids, and a tenth each targeted by platform, language or hashtag, so selection does its
real work. The server picks them up at its next snapshot refresh (``ADS_REFRESH_SECONDS``).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from datetime import UTC, datetime, timedelta


async def create(count: int) -> int:
    from models.accounts import User
    from models.ads import AdCampaign
    from server import db, security

    await db.start_pool(max_size=2)
    try:
        rows = await User.insert(
            User(
                username="bench_advertiser",
                email="ads@bench.example.com",
                email_normalized="ads@bench.example.com",
                password_hash=security.hash_password("bench advertiser password"),
                display_name="Bench Advertiser",
                capabilities=["advertiser"],
            )
        ).returning(User.id)
        advertiser = rows[0]["id"]
        now = datetime.now(UTC)
        rng = random.Random(7)
        campaigns = []
        for i in range(count):
            kind = i % 10
            targeting = {
                "hashtags": ["bench"] if kind == 1 else [],
                "languages": ["fr"] if kind == 2 else [],
                "platforms": ["ios"] if kind == 3 else [],
            }
            campaigns.append(
                AdCampaign(
                    advertiser=advertiser,
                    name=f"bench campaign {i}",
                    currency="usd",
                    budget_total=10**9,
                    budget_daily=10**8,
                    bid_cpm=rng.randint(100, 5000),
                    start_at=now - timedelta(hours=1),
                    end_at=now + timedelta(days=30),
                    targeting=targeting,
                    cap_impressions=1000,
                    cap_hours=1,
                    headline=f"Bench ad {i}",
                    text="Sponsored text for the benchmark",
                    click_url="https://bench.example.com/landing",
                    status="active",
                )
            )
        await AdCampaign.insert(*campaigns)
        return count
    finally:
        await db.close_pool()


if __name__ == "__main__":
    print(json.dumps({"campaigns": asyncio.run(create(int(sys.argv[1])))}))
