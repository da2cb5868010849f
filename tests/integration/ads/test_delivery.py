"""From enrolment to a counted impression and click in another user's feed, and what keeps ads out."""

from __future__ import annotations

from typing import Any

from tests.integration.ads.helpers import WEB, advertiser, body, home, live, moderator, report, viewer_with_posts
from tests.integration.social.helpers import signup


async def test_new_advertiser_campaign_reaches_another_users_feed_and_reports_exactly(client: Any) -> None:
    adv = await advertiser(client, "acme")
    mod = await moderator(client)
    campaign = await live(adv, mod, bid_cpm=2_000)
    reader = await viewer_with_posts(client, "reader", posts=12)

    page = await home(reader, limit=12)
    assert len(page["items"]) == 12
    # One ad per 5 posts at most: after items 4 and 9 of a 12-post page, and one campaign per page.
    assert [slot["after"] for slot in page["ads"]] == [4]
    ad = page["ads"][0]["ad"]
    assert ad["campaign_id"] == campaign["id"]
    assert ad["headline"] == "Warm socks" and ad["sponsor"]["username"] == "acme"
    assert ad["click_url"].startswith("/api/v1/ads/click/")

    res = await reader.post("/api/v1/ads/impressions", json={"token": ad["impression_token"]})
    assert res.status_code == 204
    click = await client.get(ad["click_url"])
    assert click.status_code == 302 and click.headers["location"] == "https://shop.example/socks"
    assert (await client.get(ad["click_url"])).status_code == 302  # followed twice, counted once

    got = await report(adv, campaign["id"])
    assert got["impressions"] == 1 and got["clicks"] == 1
    assert got["spend"] == 2 and got["currency"] == "usd"  # 2,000 per 1,000 impressions = 2 per impression
    assert got["ctr"] == 1.0 and got["ecpm"] == 2_000
    assert len(got["by_day"]) == 1 and got["by_day"][0]["impressions"] == 1 and got["by_day"][0]["spend"] == 2


async def test_feed_without_eligible_ads_is_valid_and_short_pages_get_none(client: Any) -> None:
    reader = await viewer_with_posts(client, "reader", posts=4)
    page = await home(reader)
    assert page["ads"] == [] and len(page["items"]) == 4
    adv = await advertiser(client, "acme")
    await live(adv, await moderator(client))
    assert (await home(reader))["ads"] == []  # 4 posts: fewer than 5, no room for an ad


async def test_campaign_in_review_paused_or_rejected_is_never_served(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    reader = await viewer_with_posts(client, "reader")
    pending = await adv.post("/api/v1/ads/campaigns", json=body())
    assert pending.json()["status"] == "in_review"
    assert (await home(reader))["ads"] == []

    rejected = await mod.post(f"/api/v1/ads/campaigns/{pending.json()['id']}/reject", json={"reason": "misleading"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["review_note"] == "misleading"
    assert (await home(reader))["ads"] == []

    campaign = await live(adv, mod)
    assert len((await home(reader))["ads"]) == 1
    paused = await adv.patch(f"/api/v1/ads/campaigns/{campaign['id']}", json={"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert (await home(reader))["ads"] == []
    resumed = await adv.patch(f"/api/v1/ads/campaigns/{campaign['id']}", json={"status": "active"})
    assert resumed.json()["status"] == "active"
    assert len((await home(reader))["ads"]) == 1


async def test_frequency_cap_limits_how_often_one_user_sees_a_campaign(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    await live(adv, mod, frequency_cap={"impressions": 2, "hours": 24})
    reader = await viewer_with_posts(client, "reader")
    other = await viewer_with_posts(client, "other")
    seen = [len((await home(reader))["ads"]) for _ in range(4)]
    assert seen == [1, 1, 0, 0]
    assert len((await home(other))["ads"]) == 1  # the cap is per user


async def test_no_ads_from_someone_the_viewer_blocks_or_who_blocks_the_viewer(app: Any, client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    await live(adv, mod)
    reader = await viewer_with_posts(client, "reader")
    blocked_by = await viewer_with_posts(client, "blockedby")
    assert len((await home(reader))["ads"]) == 1

    assert (await reader.post("/api/v1/users/acme/block")).status_code in (200, 204)
    assert [(await home(reader))["ads"] for _ in range(3)] == [[], [], []]
    assert (await adv.post("/api/v1/users/blockedby/block")).status_code in (200, 204)
    assert (await home(blocked_by))["ads"] == []
    # ... and a fresh snapshot from PostgreSQL keeps both out.
    await app.state["ads"].refresh()
    assert (await home(reader))["ads"] == [] and (await home(blocked_by))["ads"] == []


async def test_targeting_by_platform_language_and_hashtags(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    await live(adv, mod, name="android fr", targeting={"platforms": ["android"], "languages": ["fr"]})
    reader = await viewer_with_posts(client, "reader")
    android_fr = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8)", "Accept-Language": "fr-FR,fr;q=0.9"}
    android_de = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8)", "Accept-Language": "de-DE"}
    assert (await home(reader, WEB))["ads"] == []
    assert (await home(reader, android_de))["ads"] == []
    assert len((await home(reader, android_fr))["ads"]) == 1

    cats = await live(adv, mod, name="cats", targeting={"hashtags": ["#Cats"]})
    assert cats["targeting"]["hashtags"] == ["cats"]
    fan = await viewer_with_posts(client, "fan")
    stranger = await viewer_with_posts(client, "stranger")
    author = await signup(client, "author")
    post = await author.publish("my #cats are asleep")
    assert (await fan.post(f"/api/v1/posts/{post['id']}/like")).status_code in (200, 201, 204)
    fan_ads = [s["ad"]["campaign_id"] for s in (await home(fan))["ads"]]
    assert fan_ads == [cats["id"]]
    assert (await home(stranger))["ads"] == []


async def test_public_feed_carries_ads_for_signed_in_viewers_only(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    await live(adv, mod)
    reader = await viewer_with_posts(client, "reader")
    signed = await client.get("/api/v1/feeds/public", headers={**reader.headers, **WEB})
    assert signed.status_code == 200 and len(signed.json()["ads"]) == 1
    anonymous = await client.get("/api/v1/feeds/public", headers=WEB)
    assert anonymous.status_code == 200 and anonymous.json()["ads"] == []


async def test_a_full_page_carries_one_ad_per_five_posts_highest_bid_first(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    low = await live(adv, mod, name="low", bid_cpm=1_000)
    high = await live(adv, mod, name="high", bid_cpm=3_000)
    mid = await live(adv, mod, name="mid", bid_cpm=2_000)
    reader = await viewer_with_posts(client, "reader", posts=20)
    page = await home(reader, limit=20)
    assert [s["after"] for s in page["ads"]] == [4, 9, 14]  # three eligible campaigns, four slots
    assert [s["ad"]["campaign_id"] for s in page["ads"]] == [high["id"], mid["id"], low["id"]]


async def test_a_daily_budget_for_one_impression_serves_once_that_day(client: Any) -> None:
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    # 1,000 per 1,000 impressions = 1 per impression: a daily budget of 1 pays for one impression a day.
    await live(adv, mod, budget_daily=1, bid_cpm=1_000)
    reader = await viewer_with_posts(client, "reader")
    ad = (await home(reader))["ads"][0]["ad"]
    assert (await reader.post("/api/v1/ads/impressions", json={"token": ad["impression_token"]})).status_code == 204
    assert (await home(reader))["ads"] == []  # today's budget is spent; even pacing allows no more


async def test_a_changed_bid_or_sponsor_profile_shows_on_the_next_page(app: Any, client: Any) -> None:
    """Every reload keeps unchanged campaigns as they were and rebuilds any whose row or sponsor changed."""
    adv, mod = await advertiser(client, "acme"), await moderator(client)
    low = await live(adv, mod, name="low", bid_cpm=1_000)
    high = await live(adv, mod, name="high", bid_cpm=3_000)
    reader = await viewer_with_posts(client, "reader", posts=10)
    assert [s["ad"]["campaign_id"] for s in (await home(reader, limit=10))["ads"]] == [high["id"], low["id"]]
    res = await adv.patch(f"/api/v1/ads/campaigns/{low['id']}", json={"bid_cpm": 5_000})
    assert res.status_code == 200, res.text
    assert [s["ad"]["campaign_id"] for s in (await home(reader, limit=10))["ads"]] == [low["id"], high["id"]]
    res = await adv.patch("/api/v1/users/me", json={"display_name": "Acme Socks Ltd"})
    assert res.status_code == 200, res.text
    await app.state.ads.refresh()  # the timer's reload, now
    ads = (await home(reader, limit=10))["ads"]
    assert {s["ad"]["sponsor"]["display_name"] for s in ads} == {"Acme Socks Ltd"}
