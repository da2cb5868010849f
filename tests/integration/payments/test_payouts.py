"""Connect onboarding, earnings, payouts within the available balance, refunds and disputes."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.payments.helpers import creator, earnings, key, settle, stripe_post, tipped
from tests.integration.social.helpers import Actor, signup
from tests.support.stripe.server import StripeStandin

PAYOUTS = "/api/v1/creators/me/payouts"


async def request_payout(user: Actor, amount: int) -> Any:
    return await user.client.post(PAYOUTS, json={"amount": amount}, headers={**user.headers, **key()})


async def test_onboarding_then_payout_paid_notifies(client: Any, stripe: StripeStandin) -> None:
    alice = await signup(client, "alice")
    assert (await alice.post("/api/v1/creators/me/payout-account")).status_code == 403
    await alice.post("/api/v1/creators/enroll")
    res = await alice.post("/api/v1/creators/me/payout-account")
    assert res.status_code == 200
    account = res.json()
    assert account["account_id"].startswith("acct_") and account["onboarding_url"].startswith(stripe.base)
    assert account["payouts_enabled"] is False
    # Same account on a second call, with a fresh link.
    assert (await alice.post("/api/v1/creators/me/payout-account")).json()["account_id"] == account["account_id"]
    assert (await request_payout(alice, 100)).status_code == 422  # not onboarded yet
    await stripe_post(stripe, f"/_test/accounts/{account['account_id']}/onboard")
    await settle(client, stripe)
    assert (await alice.post("/api/v1/creators/me/payout-account")).json()["payouts_enabled"] is True
    bob = await signup(client, "bob")
    await tipped(client, stripe, bob, alice, 1000)
    assert (await request_payout(alice, 901)).status_code == 422  # over the 900 available
    res = await request_payout(alice, 600)
    assert res.status_code == 201, res.text
    payout = res.json()
    assert payout["amount"] == 600 and payout["status"] == "pending"
    assert await earnings(alice) | {"by_kind": None} == {
        "currency": "usd",
        "available": 300,
        "pending": 600,
        "lifetime": 900,
        "by_kind": None,
    }
    stripe_payout = next(o for o in stripe.res.objects.values() if o["object"] == "payout")
    await stripe_post(stripe, f"/_test/payouts/{stripe_payout['id']}")
    await settle(client, stripe)
    listed = (await alice.get(PAYOUTS)).json()["items"]
    assert [(p["id"], p["status"]) for p in listed] == [(payout["id"], "paid")]
    assert (await earnings(alice))["pending"] == 0
    notes = [n["type"] for n in (await alice.get("/api/v1/notifications")).json()["items"]]
    assert "payout_paid" in notes
    # Earnings of someone else are not reachable: the endpoints are "me" only.
    assert (await bob.get("/api/v1/creators/me/earnings")).status_code == 403


async def test_failed_payout_returns_the_money(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    await tipped(client, stripe, bob, alice, 1000)
    assert (await request_payout(alice, 900)).status_code == 201
    assert (await earnings(alice))["available"] == 0
    stripe_payout = next(o for o in stripe.res.objects.values() if o["object"] == "payout")
    await stripe_post(stripe, f"/_test/payouts/{stripe_payout['id']}", fail="true")
    await settle(client, stripe)
    assert (await alice.get(PAYOUTS)).json()["items"][0]["status"] == "failed"
    assert (await earnings(alice))["available"] == 900


async def test_concurrent_payouts_never_exceed_available(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    await tipped(client, stripe, bob, alice, 1000)
    results = await asyncio.gather(*(request_payout(alice, 400) for _ in range(4)))
    assert sorted(r.status_code for r in results) == [201, 201, 422, 422]
    assert (await earnings(alice))["available"] == 100


async def test_partial_and_full_refunds_by_recipient_or_admin(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    admin = await signup(client, "root", role="admin")
    payment = await tipped(client, stripe, bob, alice, 1000)
    assert (await bob.post(f"/api/v1/payments/{payment['id']}/refund", json={})).status_code == 403
    res = await alice.client.post(
        f"/api/v1/payments/{payment['id']}/refund", json={"amount": 400}, headers={**alice.headers, **key()}
    )
    assert res.status_code == 201, res.text
    assert res.json()["amount"] == 400
    assert (await earnings(alice))["available"] == 900 - 360
    over = await alice.post(f"/api/v1/payments/{payment['id']}/refund", json={"amount": 601})
    assert over.status_code == 422
    assert (await alice.post(f"/api/v1/payments/{payment['id']}/refund", json={"amount": 0})).status_code == 422
    rest = await admin.post(f"/api/v1/payments/{payment['id']}/refund", json={})
    assert rest.status_code == 201 and rest.json()["amount"] == 600
    await settle(client, stripe)  # charge.refunded webhooks: recorded already, nothing twice
    got = (await bob.get(f"/api/v1/payments/{payment['id']}")).json()
    assert got["refunded"] == 1000
    mine = await earnings(alice)
    assert mine["available"] == 0 and mine["lifetime"] == 0
    assert (await alice.post(f"/api/v1/payments/{payment['id']}/refund", json={})).status_code == 422


async def test_dispute_holds_funds_then_releases_or_loses_them(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    first = await tipped(client, stripe, bob, alice, 1000)
    second = await tipped(client, stripe, bob, alice, 1000)
    intents = [o["id"] for o in stripe.res.objects.values() if o["object"] == "payment_intent"]
    _, dp1 = await stripe_post(stripe, "/_test/disputes", payment_intent=intents[0])
    _, dp2 = await stripe_post(stripe, "/_test/disputes", payment_intent=intents[1])
    await settle(client, stripe)
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"]) == (0, 1800)
    assert (await request_payout(alice, 1)).status_code == 422
    blocked = await alice.post(f"/api/v1/payments/{first['id']}/refund", json={})
    assert blocked.status_code == 409
    await stripe_post(stripe, f"/_test/disputes/{dp1['id']}/close", status="won")
    await stripe_post(stripe, f"/_test/disputes/{dp2['id']}/close", status="lost")
    await settle(client, stripe)
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"], mine["lifetime"]) == (900, 0, 900)
    _ = second


async def test_refund_racing_a_dispute_never_goes_negative(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tipped(client, stripe, bob, alice, 1000)
    intent = next(o["id"] for o in stripe.res.objects.values() if o["object"] == "payment_intent")

    async def dispute() -> None:
        await stripe_post(stripe, "/_test/disputes", payment_intent=intent)
        await settle(client, stripe)

    async def refund() -> Any:
        return await alice.client.post(
            f"/api/v1/payments/{payment['id']}/refund", json={}, headers={**alice.headers, **key()}
        )

    results = await asyncio.gather(refund(), dispute(), refund())
    await settle(client, stripe)
    statuses = sorted(r.status_code for r in results if r is not None)
    assert statuses.count(201) <= 1
    mine = await earnings(alice)
    assert mine["available"] >= 0 and mine["pending"] >= 0
    assert mine["available"] + mine["pending"] <= 900
