"""Advertisers, campaigns and feeds with ads, the way clients reach them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.social.helpers import Actor, signup

WEB = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", "Accept-Language": "en-US,en;q=0.9"}


async def advertiser(client: Any, username: str) -> Actor:
    actor = await signup(client, username)
    res = await actor.post("/api/v1/advertisers/enroll")
    assert res.status_code == 200, res.text
    return actor


def body(**over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "name": "Autumn sale",
        "currency": "usd",
        "budget_total": 10_000,
        "bid_cpm": 2_000,
        "start_at": (now - timedelta(hours=1)).isoformat(),
        "end_at": (now + timedelta(days=7)).isoformat(),
        "targeting": {},
        "frequency_cap": {"impressions": 100, "hours": 24},
        "creative": {
            "headline": "Warm socks",
            "text": "Half price this week",
            "click_url": "https://shop.example/socks",
        },
    }
    data.update(over)
    return data


async def create(adv: Actor, **over: Any) -> dict[str, Any]:
    res = await adv.post("/api/v1/ads/campaigns", json=body(**over))
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


async def live(adv: Actor, moderator: Actor, **over: Any) -> dict[str, Any]:
    """A campaign created by ``adv`` and approved by ``moderator``."""
    campaign = await create(adv, **over)
    res = await moderator.post(f"/api/v1/ads/campaigns/{campaign['id']}/approve")
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "active"
    return res.json()  # type: ignore[no-any-return]


async def viewer_with_posts(client: Any, username: str, posts: int = 10) -> Actor:
    """A user whose home feed holds ``posts`` of their own posts."""
    actor = await signup(client, username)
    for n in range(posts):
        await actor.publish(f"post {n} #daily")
    return actor


async def home(actor: Actor, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    res = await actor.client.get(
        "/api/v1/feeds/home", params=params, headers={**actor.headers, **(WEB if headers is None else headers)}
    )
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


async def moderator(client: Any, username: str = "mod") -> Actor:
    return await signup(client, username, role="moderator")


async def report(adv: Actor, campaign_id: str) -> dict[str, Any]:
    res = await adv.get(f"/api/v1/ads/campaigns/{campaign_id}/report")
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]
