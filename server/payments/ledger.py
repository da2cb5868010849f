"""The double-entry ledger: every money movement is a transaction whose entries sum to zero.

Entries are signed integers in minor units (debit positive, credit negative) with a currency. A
transaction's ``ref`` is unique and names the Stripe object that caused it (``charge:pi_…``,
``refund:re_…``), so posting the same movement twice (a replayed webhook, a retry) is a no-op.
Balances are never stored: they are sums of entries.

Accounts (see docs/payments.md):
  stripe:clearing            money held for us at Stripe (an asset)
  platform:revenue           application fees we keep (income, credit)
  platform:ads_revenue       advertisers' spend (income, credit)
  platform:stripe_fees       Stripe's processing fees (expense, debit)
  creator:{id}:pending       a creator's share of a charge until Stripe's ``available_on`` (liability, credit)
  creator:{id}:available     what we owe a creator and they may pay out (liability, credit)
  creator:{id}:held          a creator's funds frozen by an open dispute
  creator:{id}:in_transit    a requested payout not yet at their bank
  advertiser:{id}:charges    what an advertiser was charged for ads (debit)
  bank:payouts               money that left Stripe for creators' banks
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from models.ids import new_id
from server.payments.queries import ledger as ledger_queries

CLEARING = "stripe:clearing"
REVENUE = "platform:revenue"
ADS_REVENUE = "platform:ads_revenue"
STRIPE_FEES = "platform:stripe_fees"
BANK = "bank:payouts"
KINDS = ("tip", "subscription", "content", "ads")
EARNING_BUCKETS = ("pending", "available", "held")
"""Where a creator's earnings sit until paid out: what charges, refunds and lost disputes moved there is earned."""


def creator_account(user_id: int, bucket: str = "available") -> str:
    return f"creator:{user_id}:{bucket}"


def advertiser_account(user_id: int) -> str:
    return f"advertiser:{user_id}:charges"


class Unbalanced(ValueError):
    """A posting whose entries do not sum to zero: a bug, never stored."""


async def post(
    ref: str,
    type_: str,
    currency: str,
    lines: Sequence[tuple[str, int]],
    *,
    kind: str = "",
    creator: int | None = None,
    available_on: datetime | None = None,
    source: str | None = None,
) -> bool:
    """Write one balanced transaction in the caller's DB transaction; ``False`` if ``ref`` was posted before.

    ``available_on``: a charge's, when Stripe makes its funds available. ``source``: the charge (its ``ref``)
    this posting adjusts (a refund, a dispute hold), so what is still pending of a charge can be summed.
    """
    lines = [(account, int(amount)) for account, amount in lines if amount != 0]
    if sum(amount for _, amount in lines) != 0:
        raise Unbalanced(f"{ref}: entries sum to {sum(a for _, a in lines)}")
    txn = await ledger_queries.insert_ledger_transaction(new_id(), ref, type_, kind, creator, available_on, source)
    if txn is None:
        return False
    if lines:
        await ledger_queries.insert_ledger_entries(
            [new_id() for _ in lines],
            [txn] * len(lines),
            [a for a, _ in lines],
            [n for _, n in lines],
            [currency] * len(lines),
        )
    return True


async def balance(account: str, currency: str) -> int:
    """The signed sum of ``account``'s entries in ``currency`` (credits are negative)."""
    value = await ledger_queries.account_balance(account, currency)
    return int(value)


async def post_charge(
    ref: str,
    currency: str,
    *,
    creator: int,
    kind: str,
    amount: int,
    fee: int,
    stripe_fee: int,
    available_on: datetime | None,
) -> bool:
    """A succeeded destination charge: the platform keeps ``fee``, pays Stripe's ``stripe_fee``, and owes the
    creator the rest, pending until ``available_on`` (Stripe's schedule; ``None``: available now).

    Call it in the transaction that handles the payment; ``False`` if ``ref`` was posted before.
    """
    posted = await post(
        ref,
        "charge",
        currency,
        [
            (CLEARING, amount),
            (REVENUE, -fee),
            (creator_account(creator, "pending"), -(amount - fee)),
            (STRIPE_FEES, stripe_fee),
            (CLEARING, -stripe_fee),
        ],
        kind=kind,
        creator=creator,
        available_on=available_on or datetime.now(UTC),
    )
    if posted:
        await release_due(creator)
    return posted


async def pending_of(ref: str, creator: int) -> int:
    """What is still pending of charge ``ref``: its creator's share less the refunds and holds taken from it."""
    value = await ledger_queries.pending_of_charge(ref, creator_account(creator, "pending"))
    return int(value)


async def released(ref: str) -> bool:
    """Whether charge ``ref``'s funds became available (its release was posted)."""
    return await ledger_queries.ledger_ref_exists(f"release:{ref}")


async def share_bucket(ref: str, creator: int) -> str:
    """Where charge ``ref``'s creator share sits now: ``pending`` or ``available`` (call after ``release_due``)."""
    return "available" if await released(ref) else "pending"


async def release_due(creator: int | None = None, now: datetime | None = None) -> int:
    """Make available every charge whose ``available_on`` has come (of one creator, or all); how many.

    Each release moves what is still pending of one charge to ``available``, once (``release:{ref}``), under
    the creator's lock, so a refund or a dispute racing it sees the funds in exactly one place.
    """
    rows = await ledger_queries.charges_due(now or datetime.now(UTC), creator)
    count = 0
    for r in rows:
        ref, owner = r["reference"], r["creator"]
        await ledger_queries.advisory_lock(f"creator:{owner}")
        currency = await ledger_queries.ledger_currency(ref)
        left = await pending_of(ref, owner)
        lines = [(creator_account(owner, "pending"), left), (creator_account(owner), -left)]
        if await post(f"release:{ref}", "release", str(currency), lines, creator=owner, source=ref):
            count += 1
    return count


async def post_ad_revenue(advertiser_id: int, amount: int, currency: str, ref: str) -> bool:
    """Record an advertiser's ad spend as platform revenue, once per ``ref`` (for the ads domain).

    Call it in the transaction that accounts the spend (e.g. ``ref = "ads:campaign:42:2026-11-30"``):
    debit ``advertiser:{id}:charges``, credit ``platform:ads_revenue``.
    """
    if amount <= 0:
        raise ValueError("ad revenue must be positive")
    return await post(
        f"ads:{ref}",
        "ad_revenue",
        currency,
        [(advertiser_account(advertiser_id), amount), (ADS_REVENUE, -amount)],
        kind="ads",
    )


async def check() -> list[str]:
    """Every problem found: unbalanced transactions, negative creator balances, mirrors that disagree."""
    problems: list[str] = []
    rows = await ledger_queries.unbalanced_transactions()
    problems += [f"transaction {r['ref']} does not balance in {r['currency']}: {r['total']}" for r in rows]
    rows = await ledger_queries.single_entry_transactions()
    problems += [f"transaction {r['ref']} has a single entry" for r in rows]
    rows = await ledger_queries.negative_creator_accounts()
    problems += [f"{r['account']} is negative in {r['currency']}: {-r['total']}" for r in rows]
    rows = await ledger_queries.releases_with_pending_left()
    problems += [f"charge {r['ref']} was released with {-r['left']} still pending" for r in rows]
    rows = await ledger_queries.payments_refunded_vs_booked()
    problems += [
        f"payment {r['id']} says {r['refunded']} refunded, the ledger {r['booked']}"
        for r in rows
        if int(r["refunded"]) != int(r["booked"])
    ]
    rows = await ledger_queries.payments_refunded_out_of_range()
    problems += [f"payment {r['id']} refunded {r['refunded']} of {r['amount']}" for r in rows]
    return problems
