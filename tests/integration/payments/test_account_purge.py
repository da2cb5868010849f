"""Purging an account that has money attached: a creator with paying fans, a fan with a subscription.

Their subscriptions are cancelled at Stripe and end; payments and payouts stay, by "Deleted user"; the
ledger is untouched (and still balances: the autouse ``ledger_checked``)."""

from __future__ import annotations

from typing import Any

from tests.integration.payments.helpers import creator, earnings, tipped
from tests.integration.payments.test_subscriptions import confirm, make_tier, stripe_sub_id, subscribe
from tests.integration.social.helpers import Actor, signup
from tests.support.stripe.server import StripeStandin

PASSWORD = "correct horse battery"


async def _delete_and_purge(client: Any, user: Actor) -> None:
    from models.account_data import AccountDeletion
    from server.account_data.deletion import purge_due
    from tests.support.settings import of

    res = await client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=user.headers)
    assert res.status_code == 202, res.text
    await AccountDeletion.update({AccountDeletion.purge_after: AccountDeletion.requested_at}).where(
        AccountDeletion.user == int(user.id)
    )
    assert await purge_due(of(client)) == 1


async def _money_rows() -> dict[str, Any]:
    from server import sql

    return {
        "ledger": [tuple(r) for r in await sql.fetch("SELECT * FROM ledger_entries ORDER BY id")],
        "transactions": [tuple(r) for r in await sql.fetch("SELECT * FROM ledger_transactions ORDER BY id")],
        "payments": await sql.fetchval("SELECT count(*) FROM payments"),
    }


async def _stripe_status(stripe: StripeStandin, sub_id: str) -> str:
    assert stripe.session is not None
    async with stripe.session.get(
        f"{stripe.base}/v1/subscriptions/{sub_id}", headers={"Authorization": "Bearer sk_test_client"}
    ) as resp:
        return str((await resp.json())["status"])


async def test_purging_a_creator_with_subscribers_ends_their_subscriptions_and_keeps_the_money(
    client: Any, stripe: StripeStandin
) -> None:
    alice = await creator(client, stripe, "alice")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    tier = await make_tier(alice, 800)
    sub = await subscribe(bob, tier)
    await confirm(client, stripe, sub)
    tip = await tipped(client, stripe, bob, alice, 500)
    assert tip["status"] == "succeeded"
    assert (await earnings(alice))["lifetime"] > 0
    stripe_id = await stripe_sub_id(sub)
    assert await _stripe_status(stripe, stripe_id) == "active"
    before = await _money_rows()

    await _delete_and_purge(client, alice)

    assert (await client.post("/api/v1/auth/login", json={"login": "alice", "password": PASSWORD})).status_code == 401
    assert await _stripe_status(stripe, stripe_id) == "canceled"  # bob is billed no more
    # Bob still sees what he paid for and what he paid, by the placeholder, ended and without access.
    (mine,) = (await bob.get("/api/v1/subscriptions")).json()["items"]
    assert (mine["id"], mine["status"], mine["access"]) == (sub["id"], "canceled", False)
    assert mine["tier"]["creator"]["username"] == "deleted" and mine["tier"]["amount"] == 800
    payment = (await bob.get(f"/api/v1/payments/{tip['id']}")).json()
    assert (payment["amount"], payment["status"], payment["recipient"]["username"]) == (500, "succeeded", "deleted")
    # Money records are all still there, the ledger row for row.
    assert await _money_rows() == before
    # The tier takes no new subscriber, and the placeholder lists no tiers.
    again = await eve.post("/api/v1/subscriptions", json={"tier_id": tier["id"]})
    assert again.status_code == 404
    assert (await eve.get("/api/v1/users/deleted/tiers")).status_code == 404


async def test_purging_a_subscriber_cancels_at_stripe_and_keeps_the_creators_earnings(
    client: Any, stripe: StripeStandin
) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    sub = await subscribe(bob, await make_tier(alice, 800))
    await confirm(client, stripe, sub)
    tip = await tipped(client, stripe, bob, alice, 300)
    stripe_id = await stripe_sub_id(sub)
    earned = await earnings(alice)
    before = await _money_rows()

    await _delete_and_purge(client, bob)

    assert await _stripe_status(stripe, stripe_id) == "canceled"
    assert await earnings(alice) == earned  # what alice earned is hers: the ledger did not move
    assert await _money_rows() == before
    paid = (await alice.get(f"/api/v1/payments/{tip['id']}")).json()
    assert (paid["amount"], paid["payer"]["username"]) == (300, "deleted")
