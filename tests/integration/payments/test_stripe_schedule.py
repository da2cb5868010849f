"""Stripe's fees and Stripe's schedule in the ledger: every charge's fee is booked (tips, content and
subscription invoices alike), and a creator's share stays ``pending`` until its balance transaction's
``available_on``; refunds and disputes meanwhile take it back from there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.payments.helpers import creator, earnings, key, settle, stripe_post, tipped
from tests.integration.payments.test_subscriptions import confirm, make_tier, stripe_sub_id, subscribe
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin

DAY = 86400


def stripe_fees(stripe: StripeStandin) -> list[int]:
    """The fee on each balance transaction the stand-in made (one per succeeded charge), oldest first."""
    return [o["fee"] for o in stripe.res.objects.values() if o["object"] == "balance_transaction"]


async def booked_stripe_fees() -> int:
    from server.payments import ledger

    return await ledger.balance(ledger.STRIPE_FEES, "usd")


async def release(days: float) -> int:
    """What the periodic job does, run as if ``days`` had passed."""
    from server import db
    from server.payments import ledger

    async with db.engine().transaction():
        return await ledger.release_due(now=datetime.now(UTC) + timedelta(days=days))


async def payout(user: Any, amount: int) -> Any:
    return await user.client.post(
        "/api/v1/creators/me/payouts", json={"amount": amount}, headers={**user.headers, **key()}
    )


async def test_stripes_fee_on_subscription_invoices_is_booked_like_on_charges(
    client: Any, stripe: StripeStandin
) -> None:
    alice = await creator(client, stripe, "alice")
    bob, carol = await signup(client, "bob"), await signup(client, "carol")
    await tipped(client, stripe, carol, alice, 1000)
    assert await booked_stripe_fees() == stripe_fees(stripe)[0] == 1000 * 29 // 1000 + 30
    sub = await subscribe(bob, await make_tier(alice, 800))
    await confirm(client, stripe, sub)
    await stripe_post(stripe, f"/_test/subscriptions/{await stripe_sub_id(sub)}/renew")
    await settle(client, stripe)
    fees = stripe_fees(stripe)
    assert len(fees) == 3  # the tip, the first invoice, the renewal
    assert await booked_stripe_fees() == sum(fees)
    # Each invoice's fee is booked once, under the invoice's own ledger transaction, however often it is told.
    from server import sql

    per_invoice = await sql.fetch(
        "SELECT t.reference, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.txn = t.id "
        "WHERE t.reference LIKE 'invoice:%' AND e.account = 'platform:stripe_fees' ORDER BY t.id"
    )
    assert [r["amount"] for r in per_invoice] == fees[1:]
    await settle(client, stripe)
    assert await booked_stripe_fees() == sum(fees)
    # The creator's share is not touched by Stripe's fee: the platform pays it from its application fee.
    mine = await earnings(alice)
    assert mine["by_kind"]["subscription"] == 2 * (800 - 80) and mine["by_kind"]["tip"] == 900


async def test_pending_until_stripes_available_on_then_available(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    stripe.res.available_after = 2 * DAY  # Stripe's standard schedule: funds available two days later
    payment = await tipped(client, stripe, bob, alice, 1000)
    txn = next(o for o in stripe.res.objects.values() if o["object"] == "balance_transaction")
    assert txn["status"] == "pending" and txn["available_on"] > datetime.now(UTC).timestamp() + DAY
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"], mine["lifetime"]) == (0, 900, 900)
    res = await payout(alice, 100)
    assert res.status_code == 422 and res.json()["code"] == "validation_error"
    # A refund before the funds are available takes the creator's share back out of pending.
    res = await alice.post(f"/api/v1/payments/{payment['id']}/refund", json={"amount": 200})
    assert res.status_code == 201, res.text
    await settle(client, stripe)
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"], mine["lifetime"]) == (0, 720, 720)
    assert await release(1) == 0  # not yet
    assert (await earnings(alice))["available"] == 0
    assert await release(3) == 1
    assert await release(3) == 0  # once
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"], mine["lifetime"]) == (720, 0, 720)
    assert (await payout(alice, 720)).status_code == 201
    # A charge Stripe makes available at once is available at once.
    stripe.res.available_after = 0
    await tipped(client, stripe, bob, alice, 500)
    mine = await earnings(alice)
    assert (mine["available"], mine["pending"]) == (450, 720)  # 720 on the way to the bank
    await settle(client, stripe)


async def test_a_dispute_on_pending_funds_holds_them_and_gives_them_back_to_pending(
    client: Any, stripe: StripeStandin
) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    stripe.res.available_after = 2 * DAY
    await tipped(client, stripe, bob, alice, 1000)
    intent = next(o["id"] for o in stripe.res.objects.values() if o["object"] == "payment_intent")
    _, dp = await stripe_post(stripe, "/_test/disputes", payment_intent=intent)
    await settle(client, stripe)
    from server.payments import ledger

    assert -await ledger.balance(ledger.creator_account(int(alice.id), "held"), "usd") == 900
    assert -await ledger.balance(ledger.creator_account(int(alice.id), "pending"), "usd") == 0
    assert await release(3) == 1  # nothing was left to release: it is all held
    assert (await earnings(alice))["available"] == 0
    await stripe_post(stripe, f"/_test/disputes/{dp['id']}/close", status="won")
    await settle(client, stripe)
    mine = await earnings(alice)
    # Won after the charge's date passed: the funds come back available.
    assert (mine["available"], mine["pending"], mine["lifetime"]) == (900, 0, 900)


async def test_a_refund_racing_the_release_takes_the_money_from_exactly_one_place(
    client: Any, stripe: StripeStandin
) -> None:
    import asyncio

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    stripe.res.available_after = 2 * DAY
    payments = [await tipped(client, stripe, bob, alice, 1000) for _ in range(3)]

    async def refund(payment: dict[str, Any]) -> int:
        res = await alice.client.post(
            f"/api/v1/payments/{payment['id']}/refund", json={}, headers={**alice.headers, **key()}
        )
        return int(res.status_code)

    results = await asyncio.gather(refund(payments[0]), release(3), refund(payments[1]), release(3))
    assert results[0] == results[2] == 201
    assert results[1] + results[3] == 3  # each charge released once, by one of the two runs
    await settle(client, stripe)
    mine = await earnings(alice)
    # What is left is the third tip's share, available; the refunded two are gone from both places.
    assert (mine["available"], mine["pending"], mine["lifetime"]) == (900, 0, 900)
