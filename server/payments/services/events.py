"""What each Stripe event does. Every handler re-fetches its object and applies the current state.

Handlers run inside the event's transaction; ledger postings are keyed by Stripe object ids, and
notifications and live events are emitted only when a posting is new, so nothing happens twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from server import events, outbox
from server.payments import ledger
from server.payments.gateway import StripeNotFound
from server.payments.queries import payments as payment_queries
from server.payments.queries import payouts as payout_queries
from server.payments.queries import subscriptions as subscription_queries
from server.payments.services.charges import record_refund
from server.payments.services.common import Context, lock, users_by_id
from server.payments.services.subscriptions import period_end
from server.realtime import kinds

log = structlog.get_logger(__name__)
Handler = Callable[[Context, dict[str, Any]], Awaitable[str]]
FOREVER = datetime(9999, 12, 31, tzinfo=UTC)  # access "until further notice"
ENDED = ("canceled", "incomplete_expired")


class NotYet(Exception):
    """The event is about an object we created whose row is not committed yet: the job runs again later."""


def _obj(event: dict[str, Any]) -> dict[str, Any]:
    return event["data"]["object"]  # type: ignore[no-any-return]


def _id(value: Any) -> str | None:
    """An id from a field that may be expanded (an object) or not (a string)."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def settlement(pi: dict[str, Any]) -> tuple[int, datetime | None]:
    """Stripe's fee and ``available_on`` from a PaymentIntent with ``latest_charge.balance_transaction`` expanded."""
    charge = pi.get("latest_charge")
    txn = charge.get("balance_transaction") if isinstance(charge, dict) else None
    if not isinstance(txn, dict):
        return 0, None
    when = txn.get("available_on")
    return int(txn.get("fee") or 0), datetime.fromtimestamp(int(when), UTC) if when else None


async def retrieve_settled(ctx: Context, intent_id: str) -> dict[str, Any]:
    stripe = ctx.stripe
    return await stripe.call(
        "payment_intents.retrieve",
        lambda: stripe.v1.payment_intents.retrieve_async(
            intent_id, params={"expand": ["latest_charge.balance_transaction"]}
        ),
    )


async def payment_intent(ctx: Context, event: dict[str, Any]) -> str:
    intent_id = _obj(event)["id"]
    row = await payment_queries.lock_payment_by_intent(intent_id)
    if row is None:
        # Stripe can be faster than our commit: a PaymentIntent we made (it names its payer) is retried.
        if (_obj(event).get("metadata") or {}).get("payer"):
            raise NotYet(intent_id)
        return "ignored"
    pi = await retrieve_settled(ctx, intent_id)
    await payment_queries.set_payment_status(row["id"], pi["status"])
    if pi["status"] != "succeeded":
        return "applied"
    stripe_fee, available_on = settlement(pi)
    amount, fee, currency = row["amount"], row["fee"], row["currency"]
    posted = await ledger.post_charge(
        f"charge:{intent_id}",
        currency,
        creator=row["recipient"],
        kind=row["kind"],
        amount=amount,
        fee=fee,
        stripe_fee=stripe_fee,
        available_on=available_on,
    )
    if posted:
        await ctx.bus.dispatch(
            events.PaymentReceived(
                actor_id=row["payer"],
                recipient_id=row["recipient"],
                payment_id=row["id"],
                kind=row["kind"],
                amount=amount,
                currency=currency,
            )
        )
        if row["kind"] == "tip" and row["live_id"] is not None:
            payer = (await users_by_id({row["payer"]}))[row["payer"]]
            data = {"from": payer, "amount": amount, "currency": currency, "message": row["message"]}
            await outbox.emit(kinds.live(row["live_id"]), "tip", data, actor=row["payer"])
    return "applied"


async def charge_refunded(ctx: Context, event: dict[str, Any]) -> str:
    charge = _obj(event)
    intent_id = _id(charge.get("payment_intent"))
    row = await payment_queries.lock_payment_by_intent(intent_id)
    if row is None:
        return "ignored"
    stripe = ctx.stripe
    refunds = await stripe.call(
        "refunds.list",
        lambda: stripe.v1.refunds.list_async(params={"payment_intent": intent_id, "limit": 100}),
    )
    payment_id = row["id"]
    for refund in refunds.get("data", []):
        if refund["status"] in ("succeeded", "pending"):
            await record_refund(row, refund["id"], refund["amount"], refund["status"], 0, f"stripe:{refund['id']}")
            row = await payment_queries.payment(payment_id)
    return "applied"


async def dispute(ctx: Context, event: dict[str, Any]) -> str:
    """Opened: hold the creator's share of the disputed amount. Closed: release it, or lose it."""
    dispute_id = _obj(event)["id"]
    stripe = ctx.stripe
    try:
        dp = await stripe.call("disputes.retrieve", lambda: stripe.v1.disputes.retrieve_async(dispute_id))
    except StripeNotFound:
        return "ignored"
    row = await payment_queries.lock_payment_by_intent(_id(dp.get("payment_intent")))
    if row is None:
        return "ignored"
    creator, currency = row["recipient"], row["currency"]
    await lock(f"creator:{creator}")
    await ledger.release_due(creator)
    # The creator's share of this charge is still pending at Stripe, or available: the hold takes it from there.
    charge_ref = f"charge:{row['intent_id']}"
    bucket = await ledger.share_bucket(charge_ref, creator)
    source = ledger.creator_account(creator, bucket)
    held = ledger.creator_account(creator, "held")
    if dp["status"] not in ("won", "lost"):
        gross = min(int(dp["amount"]), row["amount"] - row["refunded"])
        share = gross * (row["amount"] - row["fee"]) // row["amount"]
        there = (
            await ledger.pending_of(charge_ref, creator)
            if bucket == "pending"
            else -await ledger.balance(source, currency)
        )
        share = max(0, min(share, there))
        await ledger.post(
            f"dispute:{dispute_id}:hold",
            "dispute_hold",
            currency,
            [(source, share), (held, -share)],
            kind=row["kind"],
            creator=creator,
            source=charge_ref,
        )
        await payment_queries.mark_payment_disputed(row["id"])
        return "applied"
    hold = await payment_queries.dispute_hold(f"dispute:{dispute_id}:hold", held)
    hold = int(hold)
    if dp["status"] == "won":
        await ledger.post(
            f"dispute:{dispute_id}:closed",
            "dispute_release",
            currency,
            [(held, hold), (source, -hold)],
            kind=row["kind"],
            creator=creator,
            source=charge_ref,
        )
        await payment_queries.clear_payment_disputed(row["id"])
    else:
        lost = int(dp["amount"])
        await ledger.post(
            f"dispute:{dispute_id}:closed",
            "dispute_lost",
            currency,
            [(held, hold), ("platform:dispute_losses", lost - hold), (ledger.CLEARING, -lost)],
            kind=row["kind"],
            creator=creator,
            source=charge_ref,
        )
    return "applied"


async def _subscription_row(ctx: Context, sub_id: str | None) -> tuple[Any, dict[str, Any]] | None:
    if sub_id is None:
        return None
    row = await subscription_queries.lock_subscription(sub_id)
    stripe = ctx.stripe
    try:
        sub = await stripe.call("subscriptions.retrieve", lambda: stripe.v1.subscriptions.retrieve_async(sub_id))
    except StripeNotFound:
        return None
    if row is None:
        if (sub.get("metadata") or {}).get("subscriber"):
            raise NotYet(sub_id)  # ours, and its row is not committed yet
        return None
    return row, sub


async def _apply_subscription(ctx: Context, row: Any, sub: dict[str, Any]) -> None:
    """Mirror the subscription's current state; past_due keeps access for the grace period, an end ends it."""
    status = sub["status"]
    items = (sub.get("items") or {}).get("data") or []
    price = items[0]["price"]["id"] if items and isinstance(items[0].get("price"), dict) else None
    tier = await subscription_queries.tier_id_by_price(price) if price else None
    await subscription_queries.mirror_subscription(
        row["id"], status, bool(sub.get("cancel_at_period_end")), period_end(sub), tier
    )
    if status in ENDED:
        await subscription_queries.end_subscription(row["id"])
    elif status in ("past_due", "unpaid"):
        grace = ctx.settings.grace_days * 86400
        await subscription_queries.cut_access_to_grace(row["id"], grace)


async def subscription_changed(ctx: Context, event: dict[str, Any]) -> str:
    found = await _subscription_row(ctx, _obj(event)["id"])
    if found is None:
        return "ignored"
    await _apply_subscription(ctx, *found)
    return "applied"


def _invoice_subscription(inv: dict[str, Any]) -> str | None:
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    return _id(parent.get("subscription")) or _id(inv.get("subscription"))


def _invoice_intent(inv: dict[str, Any]) -> str | None:
    """The PaymentIntent that paid the invoice (its ``payments``, expanded), for Stripe's fee and schedule."""
    for item in (inv.get("payments") or {}).get("data") or []:
        payment = item.get("payment") or {}
        if item.get("status") == "paid" and payment.get("type") == "payment_intent":
            return _id(payment.get("payment_intent"))
    return None


async def invoice_paid(ctx: Context, event: dict[str, Any]) -> str:
    """Access starts (or resumes): until further notice; the first one notifies the creator."""
    stripe = ctx.stripe
    inv_id = _obj(event)["id"]
    try:
        inv = await stripe.call(
            "invoices.retrieve",
            lambda: stripe.v1.invoices.retrieve_async(inv_id, params={"expand": ["payments"]}),
        )
    except StripeNotFound:
        return "ignored"
    found = await _subscription_row(ctx, _invoice_subscription(inv))
    if found is None:
        return "ignored"
    row, sub = found
    await _apply_subscription(ctx, row, sub)
    if inv.get("status") != "paid":
        return "applied"
    paid = int(inv.get("amount_paid") or 0)
    currency = inv["currency"]
    if paid > 0:
        fee = int(inv.get("application_fee_amount") or ctx.fee(paid))
        stripe_fee, available_on = 0, None
        intent_id = _invoice_intent(inv)
        if intent_id is not None:
            stripe_fee, available_on = settlement(await retrieve_settled(ctx, intent_id))
        await ledger.post_charge(
            f"invoice:{inv_id}",
            currency,
            creator=row["creator"],
            kind="subscription",
            amount=paid,
            fee=fee,
            stripe_fee=stripe_fee,
            available_on=available_on,
        )
    if sub["status"] not in ENDED:
        await subscription_queries.grant_access_until(row["id"], FOREVER)
    if not row["started_notified"]:
        await subscription_queries.mark_started_notified(row["id"])
        await ctx.bus.dispatch(
            events.SubscriptionStarted(
                actor_id=row["subscriber"], creator_id=row["creator"], subscription_id=row["id"], tier_id=row["tier"]
            )
        )
    return "applied"


async def invoice_failed(ctx: Context, event: dict[str, Any]) -> str:
    found = await _subscription_row(ctx, _invoice_subscription(_obj(event)))
    if found is None:
        return "ignored"
    await _apply_subscription(ctx, *found)
    return "applied"


async def account_updated(ctx: Context, event: dict[str, Any]) -> str:
    account_id = _obj(event)["id"]
    row = await payout_queries.lock_payout_account(account_id)
    if row is None:
        return "ignored"
    stripe = ctx.stripe
    acct = await stripe.call("accounts.retrieve", lambda: stripe.v1.accounts.retrieve_async(account_id))
    await payout_queries.update_payout_account(
        account_id,
        bool(acct.get("charges_enabled")),
        bool(acct.get("payouts_enabled")),
        bool(acct.get("details_submitted")),
        (acct.get("default_currency") or None),
    )
    return "applied"


async def payout(ctx: Context, event: dict[str, Any]) -> str:
    payout_id = _obj(event)["id"]
    row = await payout_queries.lock_payout(payout_id)
    if row is None:
        return "ignored"
    account = await payout_queries.payout_account_id(row["creator"])
    stripe = ctx.stripe
    po = await stripe.call(
        "payouts.retrieve",
        lambda: stripe.v1.payouts.retrieve_async(payout_id, options={"stripe_account": account}),
    )
    status, creator, amount = po["status"], row["creator"], row["amount"]
    await payout_queries.set_payout_status(row["id"], status, po.get("failure_message") or "")
    in_transit = ledger.creator_account(creator, "in_transit")
    if status == "paid":
        posted = await ledger.post(
            f"payout:{payout_id}:settled",
            "payout_paid",
            row["currency"],
            [(in_transit, amount), (ledger.CLEARING, -amount)],
            creator=creator,
        )
        if posted:
            await ctx.bus.dispatch(
                events.PayoutPaid(actor_id=creator, payout_id=row["id"], amount=amount, currency=row["currency"])
            )
    elif status in ("failed", "canceled"):
        await ledger.post(
            f"payout:{payout_id}:settled",
            "payout_failed",
            row["currency"],
            [(in_transit, amount), (ledger.creator_account(creator), -amount)],
            creator=creator,
        )
    return "applied"


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": payment_intent,
    "payment_intent.payment_failed": payment_intent,
    "payment_intent.canceled": payment_intent,
    "payment_intent.processing": payment_intent,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute,
    "charge.dispute.updated": dispute,
    "charge.dispute.closed": dispute,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_failed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "account.updated": account_updated,
    "payout.paid": payout,
    "payout.failed": payout,
    "payout.canceled": payout,
}
