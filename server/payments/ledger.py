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
  creator:{id}:available     what we owe a creator and they may pay out (liability, credit)
  creator:{id}:held          a creator's funds frozen by an open dispute
  creator:{id}:in_transit    a requested payout not yet at their bank
  advertiser:{id}:charges    what an advertiser was charged for ads (debit)
  bank:payouts               money that left Stripe for creators' banks
"""

from __future__ import annotations

from collections.abc import Sequence

from models.ids import new_id
from server.social import sql

CLEARING = "stripe:clearing"
REVENUE = "platform:revenue"
ADS_REVENUE = "platform:ads_revenue"
STRIPE_FEES = "platform:stripe_fees"
BANK = "bank:payouts"
KINDS = ("tip", "subscription", "content", "ads")


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
) -> bool:
    """Write one balanced transaction in the caller's DB transaction; ``False`` if ``ref`` was posted before."""
    lines = [(account, int(amount)) for account, amount in lines if amount != 0]
    if sum(amount for _, amount in lines) != 0:
        raise Unbalanced(f"{ref}: entries sum to {sum(a for _, a in lines)}")
    txn = await sql.fetchval(
        "INSERT INTO ledger_transactions (id, reference, type, kind, creator, created_at) "
        "VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (reference) DO NOTHING RETURNING id",
        new_id(),
        ref,
        type_,
        kind,
        creator,
    )
    if txn is None:
        return False
    if lines:
        await sql.execute(
            "INSERT INTO ledger_entries (id, txn, account, amount, currency) "
            "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[])",
            [new_id() for _ in lines],
            [txn] * len(lines),
            [a for a, _ in lines],
            [n for _, n in lines],
            [currency] * len(lines),
        )
    return True


async def balance(account: str, currency: str) -> int:
    """The signed sum of ``account``'s entries in ``currency`` (credits are negative)."""
    value = await sql.fetchval(
        "SELECT COALESCE(sum(amount), 0) FROM ledger_entries WHERE account = $1 AND currency = $2", account, currency
    )
    return int(value)


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
    rows = await sql.fetch(
        "SELECT t.reference AS ref, e.currency, sum(e.amount) AS total FROM ledger_transactions t "
        "JOIN ledger_entries e ON e.txn = t.id GROUP BY t.reference, e.currency HAVING sum(e.amount) <> 0"
    )
    problems += [f"transaction {r['ref']} does not balance in {r['currency']}: {r['total']}" for r in rows]
    rows = await sql.fetch(
        "SELECT t.reference AS ref FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn = t.id "
        "GROUP BY t.reference HAVING count(e.id) = 1"
    )
    problems += [f"transaction {r['ref']} has a single entry" for r in rows]
    rows = await sql.fetch(
        "SELECT account, currency, sum(amount) AS total FROM ledger_entries WHERE account LIKE 'creator:%' "
        "GROUP BY account, currency HAVING sum(amount) > 0"
    )
    problems += [f"{r['account']} is negative in {r['currency']}: {-r['total']}" for r in rows]
    rows = await sql.fetch(
        "SELECT p.id, p.refunded, COALESCE((SELECT sum(-e.amount) FROM payment_refunds r "
        "JOIN ledger_transactions t ON t.reference = 'refund:' || r.refund_id "
        "JOIN ledger_entries e ON e.txn = t.id AND e.account = 'stripe:clearing' WHERE r.payment = p.id), 0) AS booked "
        "FROM payments p"
    )
    problems += [
        f"payment {r['id']} says {r['refunded']} refunded, the ledger {r['booked']}"
        for r in rows
        if int(r["refunded"]) != int(r["booked"])
    ]
    rows = await sql.fetch(
        "SELECT p.id, p.amount, p.refunded FROM payments p WHERE p.refunded > p.amount OR p.refunded < 0"
    )
    problems += [f"payment {r['id']} refunded {r['refunded']} of {r['amount']}" for r in rows]
    return problems
