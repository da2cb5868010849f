"""Payments: Stripe customers, payments, tiers, fan subscriptions, payout accounts, payouts, the ledger.

Money is always an integer in the currency's minor unit plus a currency. Balances are never stored:
they are sums of ``LedgerEntry`` rows. Every row that mirrors a Stripe object keeps its id, unique,
so webhook processing can be idempotent by object id.
"""

from piccolo.columns import JSONB, BigInt, Boolean, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.accounts import User
from models.ids import new_id


class StripeCustomer(Table, tablename="stripe_customers"):
    """The Stripe Customer of a user, created the first time they pay."""

    user = ForeignKey(User, primary_key=True, null=False, on_delete=OnDelete.cascade)
    customer_id = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Payment(Table, tablename="payments"):
    """A one-off payment (a tip or a content purchase): one Stripe PaymentIntent."""

    id = BigInt(primary_key=True, default=new_id)
    kind = Varchar(length=16, help_text="tip or content")
    payer = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    recipient = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    amount = BigInt()
    currency = Varchar(length=3)
    fee = BigInt(help_text="the platform's application fee")
    status = Varchar(length=32, help_text="the PaymentIntent's status")
    intent_id = Varchar(length=64, unique=True)
    client_secret = Varchar(length=200, secret=True)
    idem_key = Varchar(length=300, unique=True, help_text="payer id : Idempotency-Key")
    message = Text(default="")
    live_id = BigInt(null=True, default=None)
    post_id = BigInt(null=True, default=None, index=True, help_text="the bought post, for content")
    video_id = BigInt(null=True, default=None, index=True, help_text="the bought video, for content")
    refunded = BigInt(default=0, help_text="refunded so far (mirrors the ledger)")
    disputed = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Refund(Table, tablename="payment_refunds"):
    id = BigInt(primary_key=True, default=new_id)
    payment = ForeignKey(Payment, null=False, on_delete=OnDelete.cascade, index=True)
    refund_id = Varchar(length=64, unique=True)
    idem_key = Varchar(length=300, unique=True)
    amount = BigInt()
    currency = Varchar(length=3)
    status = Varchar(length=32)
    requested_by = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class Tier(Table, tablename="subscription_tiers"):
    """A creator's subscription tier: a Stripe Product with one recurring Price."""

    id = BigInt(primary_key=True, default=new_id)
    creator = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    description = Text(default="")
    amount = BigInt()
    currency = Varchar(length=3)
    interval = Varchar(length=8, help_text="month or year")
    product_id = Varchar(length=64)
    price_id = Varchar(length=64, unique=True)
    idem_key = Varchar(length=300, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class FanSubscription(Table, tablename="fan_subscriptions"):
    """A fan's Stripe Subscription to a creator's tier; ``access_until`` is what visibility reads."""

    id = BigInt(primary_key=True, default=new_id)
    subscriber = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    creator = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    tier = ForeignKey(Tier, null=False, on_delete=OnDelete.restrict)
    subscription_id = Varchar(length=64, unique=True)
    item_id = Varchar(length=64, default="")
    status = Varchar(length=32)
    client_secret = Varchar(length=200, null=True, default=None, secret=True)
    current_period_end = Timestamptz(null=True, default=None)
    cancel_at_period_end = Boolean(default=False)
    access_until = Timestamptz(null=True, default=None, help_text="null: no access; set by invoice.paid")
    started_notified = Boolean(default=False)
    idem_key = Varchar(length=300, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)


class PayoutAccount(Table, tablename="payout_accounts"):
    """A creator's Stripe Connect Express account."""

    user = ForeignKey(User, primary_key=True, null=False, on_delete=OnDelete.cascade)
    account_id = Varchar(length=64, unique=True)
    charges_enabled = Boolean(default=False)
    payouts_enabled = Boolean(default=False)
    details_submitted = Boolean(default=False)
    default_currency = Varchar(length=3, default="usd")
    created_at = Timestamptz(default=TimestamptzNow())


class Payout(Table, tablename="payouts"):
    """A creator's payout from their Connect balance to their bank."""

    id = BigInt(primary_key=True, default=new_id)
    creator = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    amount = BigInt()
    currency = Varchar(length=3)
    status = Varchar(length=32)
    payout_id = Varchar(length=64, unique=True)
    idem_key = Varchar(length=300, unique=True)
    failure_message = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class StripeEvent(Table, tablename="stripe_events"):
    """Every verified webhook event, once: the primary key makes a replay a no-op."""

    id = Varchar(length=64, primary_key=True)
    type = Varchar(length=100)
    created = BigInt(help_text="the event's ``created`` (Unix seconds)")
    payload = JSONB()
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=32, default="", help_text="applied, ignored, stale")


class LedgerTransaction(Table, tablename="ledger_transactions"):
    """One money movement; its entries sum to zero per currency. ``ref`` makes a posting happen once."""

    id = BigInt(primary_key=True, default=new_id)
    reference = Varchar(length=200, unique=True, help_text="e.g. charge:pi_123, refund:re_1, payout:po_1")
    type = Varchar(length=32, help_text="charge, refund, dispute_hold, dispute_release, dispute_lost, payout...")
    kind = Varchar(length=16, default="", help_text="tip, content, subscription, ads: what the money was for")
    creator = BigInt(null=True, default=None, index=True, help_text="the creator whose earnings moved")
    available_on = Timestamptz(
        null=True, default=None, index=True, help_text="charges: when Stripe makes the funds available"
    )
    source = Varchar(
        length=200, null=True, default=None, index=True, help_text="the charge (its reference) a posting adjusts"
    )
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerEntry(Table, tablename="ledger_entries"):
    """One line of a transaction: debit positive, credit negative, in minor units."""

    id = BigInt(primary_key=True, default=new_id)
    txn = ForeignKey(LedgerTransaction, null=False, on_delete=OnDelete.restrict, index=True)
    account = Varchar(length=100, index=True, help_text="e.g. creator:42:available, platform:revenue")
    amount = BigInt()
    currency = Varchar(length=3)
