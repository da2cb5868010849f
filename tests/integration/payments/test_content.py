"""Paid posts: a locked teaser until bought; the buyer sees it once Stripe says the payment succeeded."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from tests.integration.payments.helpers import creator, earnings, key, pay, settle, tipped
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin

BUY = "/api/v1/payments/purchases"


async def test_buying_a_paid_post_unlocks_it(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    res = await alice.post(
        "/api/v1/posts", json={"text": "the secret recipe", "price": {"amount": 300, "currency": "usd"}}
    )
    assert res.status_code == 201, res.text
    post = res.json()
    assert post["price"] == {"amount": 300, "currency": "usd"} and post["locked"] is False
    teaser = (await bob.get(f"/api/v1/posts/{post['id']}")).json()
    assert teaser["locked"] is True and teaser["text"] == "" and teaser["price"]["amount"] == 300
    public = await bob.feed("/api/v1/feeds/public")
    assert [(p["locked"], p["text"]) for p in public if p["id"] == post["id"]] == [(True, "")]
    assert (await bob.client.post(BUY, json={"post_id": post["id"]}, headers=bob.headers)).status_code == 422
    res = await bob.client.post(BUY, json={"post_id": post["id"]}, headers={**bob.headers, **key()})
    assert res.status_code == 201, res.text
    payment = res.json()
    assert (payment["kind"], payment["amount"], payment["currency"], payment["fee"]) == ("content", 300, "usd", 30)
    assert (await bob.get(f"/api/v1/posts/{post['id']}")).json()["locked"] is True  # not before Stripe says so
    await pay(client, stripe, payment)
    bought = (await bob.get(f"/api/v1/posts/{post['id']}")).json()
    assert bought["locked"] is False and bought["text"] == "the secret recipe"
    assert (await eve.get(f"/api/v1/posts/{post['id']}")).json()["locked"] is True
    again = await bob.client.post(BUY, json={"post_id": post["id"]}, headers={**bob.headers, **key()})
    assert again.status_code == 409
    own = await alice.client.post(BUY, json={"post_id": post["id"]}, headers={**alice.headers, **key()})
    assert own.status_code == 422
    assert (await earnings(alice))["by_kind"]["content"] == 270


async def test_only_creators_sell_posts_and_free_posts_are_not_for_sale(client: Any, stripe: StripeStandin) -> None:
    bob = await signup(client, "bob")
    res = await bob.post("/api/v1/posts", json={"text": "x", "price": {"amount": 300, "currency": "usd"}})
    assert res.status_code == 403
    alice = await creator(client, stripe, "alice")
    for price in ({"amount": 0, "currency": "usd"}, {"amount": 300, "currency": "US"}):
        res = await alice.post("/api/v1/posts", json={"text": "x", "price": price})
        assert res.status_code == 422
    free = await alice.publish("free")
    res = await bob.client.post(BUY, json={"post_id": free["id"]}, headers={**bob.headers, **key()})
    assert res.status_code == 422
    hidden = await alice.publish("mine", visibility="private")
    res = await bob.client.post(BUY, json={"post_id": hidden["id"]}, headers={**bob.headers, **key()})
    assert res.status_code == 404


async def test_analytics_for_creators_and_admins(client: Any, stripe: StripeStandin) -> None:
    from tests.integration.payments.test_subscriptions import confirm, make_tier, subscribe

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    admin = await signup(client, "root", role="admin")
    await tipped(client, stripe, bob, alice, 1000)
    tier = await make_tier(alice, 1200, interval="year")
    await confirm(client, stripe, await subscribe(bob, tier))
    res = await alice.get("/api/v1/creators/me/analytics")
    assert res.status_code == 200, res.text
    stats = res.json()
    assert stats["subscribers"] == 1 and stats["mrr"] == 100 and stats["churn"] == 0.0
    assert len(stats["by_month"]) == 1
    assert (stats["by_month"][0]["tip"], stats["by_month"][0]["subscription"]) == (900, 1080)
    assert (await bob.get("/api/v1/admin/payments/analytics")).status_code == 403
    platform = (await admin.get("/api/v1/admin/payments/analytics")).json()
    assert platform["gmv"] == 2200 and platform["platform_revenue"] == 100 + 120
    assert (platform["mrr"], platform["arr"], platform["active_subscriptions"]) == (100, 1200, 1)
    await settle(client, stripe)


async def test_ad_revenue_posting_is_balanced_and_idempotent(client: Any, stripe: StripeStandin) -> None:
    from server import db
    from server.payments import ledger

    async with db.engine().transaction():
        assert await ledger.post_ad_revenue(7, 2500, "usd", "campaign:1:2026-11-30")
        assert not await ledger.post_ad_revenue(7, 2500, "usd", "campaign:1:2026-11-30")
    assert await ledger.balance(ledger.ADS_REVENUE, "usd") == -2500
    assert await ledger.balance(ledger.advertiser_account(7), "usd") == 2500


async def test_ledger_check_command(client: Any, stripe: StripeStandin) -> None:
    """``python -m server ledger-check`` passes on real traffic and fails on an unbalanced transaction."""
    from models.ids import new_id
    from server import sql

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    await tipped(client, stripe, bob, alice, 1000)
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"]}
    ok = subprocess.run([sys.executable, "-m", "server", "ledger-check"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    txn = await sql.fetchval("SELECT id FROM ledger_transactions LIMIT 1")
    await sql.execute(
        "INSERT INTO ledger_entries (id, txn, account, amount, currency) VALUES ($1, $2, 'stripe:clearing', 1, 'usd')",
        new_id(),
        txn,
    )
    bad = subprocess.run([sys.executable, "-m", "server", "ledger-check"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "does not balance" in bad.stderr
    await sql.execute("DELETE FROM ledger_entries WHERE amount = 1 AND account = 'stripe:clearing'")
