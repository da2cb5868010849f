"""The issue's bad-input list, the parts the other files do not cover: someone else's subscription and
earnings, and Stripe failing in the middle of a subscription or a tier (nothing half-written)."""

from __future__ import annotations

from typing import Any

from tests.integration.payments.helpers import creator, earnings, key, settle, tip, tipped
from tests.integration.payments.test_subscriptions import confirm, make_tier, subscribe
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin


async def test_someone_elses_subscription_earnings_and_payouts_stay_theirs(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    carol = await creator(client, stripe, "carol")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    await tipped(client, stripe, bob, alice, 1000)
    res = await alice.client.post(
        "/api/v1/creators/me/payouts", json={"amount": 300}, headers={**alice.headers, **key()}
    )
    assert res.status_code == 201, res.text
    sub = await subscribe(bob, await make_tier(alice, 600))
    await confirm(client, stripe, sub)
    other_tier = await make_tier(alice, 900, name="Gold")
    # eve cannot read, change or cancel bob's subscription: 404, as if it did not exist.
    assert (await eve.get(f"/api/v1/subscriptions/{sub['id']}")).status_code == 404
    res = await eve.patch(f"/api/v1/subscriptions/{sub['id']}", json={"tier_id": other_tier["id"]})
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert (await eve.delete(f"/api/v1/subscriptions/{sub['id']}?immediately=true")).status_code == 404
    assert (await eve.get("/api/v1/subscriptions")).json()["items"] == []
    assert (await bob.get(f"/api/v1/subscriptions/{sub['id']}")).json()["access"] is True  # untouched
    # Earnings, payouts and analytics are the caller's own: there is no id to ask for anyone else's.
    theirs = await earnings(carol)
    assert (theirs["available"], theirs["pending"], theirs["lifetime"]) == (0, 0, 0)
    assert (await carol.get("/api/v1/creators/me/payouts")).json()["items"] == []
    stats = (await carol.get("/api/v1/creators/me/analytics")).json()
    assert (stats["by_month"], stats["subscribers"], stats["mrr"]) == ([], 0, 0)
    assert (await eve.get("/api/v1/creators/me/earnings")).status_code == 403  # not a creator
    assert (await eve.get(f"/api/v1/creators/{alice.id}/earnings")).status_code == 404
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"]) == (900 + 540 - 300, 300)


async def test_stripe_failing_mid_subscription_writes_nothing_and_the_same_key_finishes(
    client: Any, stripe: StripeStandin
) -> None:
    from server import sql

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    tier_body = {"name": "Fan", "amount": 500, "currency": "usd", "interval": "month"}
    tier_key = key()
    stripe.fail_next(2, 500)  # the first call (the Product) and the SDK's one retry
    res = await alice.client.post("/api/v1/creators/me/tiers", json=tier_body, headers={**alice.headers, **tier_key})
    assert res.status_code == 503 and res.json()["code"] == "payments_unavailable"
    assert await sql.fetchval("SELECT count(*) FROM subscription_tiers") == 0
    res = await alice.client.post("/api/v1/creators/me/tiers", json=tier_body, headers={**alice.headers, **tier_key})
    assert res.status_code == 201, res.text
    tier = res.json()
    assert len(stripe.created("/v1/products")) == 1 and len(stripe.created("/v1/prices")) == 1
    sub_key = key()
    body = {"tier_id": tier["id"]}
    await tip(bob, alice)  # bob's Stripe Customer exists: the failure hits the Subscription itself
    stripe.fail_next(2, 503)
    res = await bob.client.post("/api/v1/subscriptions", json=body, headers={**bob.headers, **sub_key})
    assert res.status_code == 503 and res.json()["code"] == "payments_unavailable"
    assert await sql.fetchval("SELECT count(*) FROM fan_subscriptions") == 0
    res = await bob.client.post("/api/v1/subscriptions", json=body, headers={**bob.headers, **sub_key})
    assert res.status_code == 201, res.text
    again = await bob.client.post("/api/v1/subscriptions", json=body, headers={**bob.headers, **sub_key})
    assert again.status_code == 201 and again.json()["id"] == res.json()["id"]
    assert len(stripe.created("/v1/subscriptions")) == 1
    await confirm(client, stripe, res.json())
    assert (await bob.get(f"/api/v1/subscriptions/{res.json()['id']}")).json()["access"] is True
    await settle(client, stripe)


async def test_ids_past_64_bits_are_a_problem_not_a_500(client: Any, stripe: StripeStandin) -> None:
    """schemathesis, run with Stripe configured: a refund of payment 19087702782925705216 answered 500."""
    bob = await signup(client, "bob")
    huge = str(1 << 64)
    for method, path in [
        ("GET", f"/api/v1/payments/{huge}"),
        ("POST", f"/api/v1/payments/{huge}/refund"),
        ("GET", f"/api/v1/subscriptions/{huge}"),
        ("PATCH", f"/api/v1/subscriptions/{huge}"),
        ("DELETE", f"/api/v1/subscriptions/{huge}"),
        ("GET", "/api/v1/payments/0"),
    ]:
        body = {"tier_id": "1"} if method == "PATCH" else None
        res = await bob.client.request(method, path, json=body, headers=bob.headers)
        assert res.status_code in (404, 422), (method, path, res.status_code, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/media/videos/{huge}/p/master.m3u8")).status_code == 404
