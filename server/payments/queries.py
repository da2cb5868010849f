"""Payments SQL: the predicates other domains embed in their visibility rules, and the statements the
payment services and the ledger run.

Raw SQL because the ledger is set-based (double-entry postings, balances summed per account, rows locked
``FOR UPDATE`` in a fixed order) and the analytics are aggregates with ``FILTER`` clauses the builder
cannot express. Each function runs on the caller's transaction when there is one (``server.sql`` joins
it), so a lock taken here is held until the caller's ``db.transaction()`` ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from server import sql


def bought(column: str, target: str) -> str:
    """SQL: viewer ``$1`` bought ``target`` (``payments.{column}``: ``post_id`` or ``video_id``) and keeps it.

    A purchase counts once Stripe said it succeeded (``payment_intent.succeeded`` sets ``status``) and
    until it is fully refunded (``refunded`` mirrors the ledger); a partial refund keeps access.
    """
    return (
        f"EXISTS (SELECT 1 FROM payments b WHERE b.{column} = {target} AND b.payer = $1 "  # noqa: S608 — column and target are SQL names its callers pass as literals, never input
        "AND b.status = 'succeeded' AND b.refunded < b.amount)"
    )


def subscriber_access(owner: str) -> str:
    """SQL: viewer ``$1`` has access to ``owner``'s (a column) subscriber-only content right now.

    ``access_until`` is set by ``invoice.paid``, cut to now + grace on ``past_due`` and to now when the
    subscription ends, so this one comparison is the whole rule (served by ``fan_subscriptions_access``).
    """
    return (
        "EXISTS (SELECT 1 FROM fan_subscriptions s "  # noqa: S608 — owner is a column name its callers pass as a literal, never input
        f"WHERE s.subscriber = $1 AND s.creator = {owner} AND s.access_until > now())"
    )


# --- analytics (aggregates over the ledger and the subscriptions) ---

# Monthly value of the subscriptions that give access now (a yearly price counts 1/12 per month).
_MRR = (
    "SELECT COALESCE(sum(CASE WHEN t.interval = 'year' THEN t.amount / 12 ELSE t.amount END), 0) AS mrr, "
    "count(*) AS n FROM fan_subscriptions s JOIN subscription_tiers t ON t.id = s.tier "
    "WHERE s.access_until > now() AND s.ended_at IS NULL AND t.currency = $1"
)
# Churn over the last 30 days: subscriptions that ended / those that had access during the window.
_CHURN = (
    "SELECT count(*) FILTER (WHERE s.ended_at > now() - interval '30 days') AS ended, "
    "count(*) FILTER (WHERE s.access_until > now() - interval '30 days' OR s.ended_at > now() - interval '30 days') "
    "AS base FROM fan_subscriptions s JOIN subscription_tiers t ON t.id = s.tier WHERE t.currency = $1"
)
_OF_CREATOR = " AND s.creator = $2"


async def creator_earnings_by_month(accounts: list[str], currency: str) -> list[asyncpg.Record]:
    """Per month and kind, what ``accounts`` earned from charges, refunds and lost disputes."""
    return await sql.fetch(
        "SELECT to_char(date_trunc('month', t.created_at), 'YYYY-MM') AS month, t.kind, -sum(e.amount) AS total "
        "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn WHERE e.account = ANY($1) "
        "AND e.currency = $2 AND t.type IN ('charge', 'refund', 'dispute_lost') GROUP BY 1, 2 ORDER BY 1",
        accounts,
        currency,
    )


async def mrr(currency: str, creator: int | None = None) -> asyncpg.Record | None:
    """``mrr`` and ``n`` (subscriptions giving access now) in ``currency``, for one creator or all."""
    if creator is None:
        return await sql.fetchrow(_MRR, currency)
    return await sql.fetchrow(_MRR + _OF_CREATOR, currency, creator)


async def churn(currency: str, creator: int | None = None) -> asyncpg.Record | None:
    """``ended`` and ``base`` over the last 30 days in ``currency``, for one creator or all."""
    if creator is None:
        return await sql.fetchrow(_CHURN, currency)
    return await sql.fetchrow(_CHURN + _OF_CREATOR, currency, creator)


async def platform_totals(currency: str, clearing: str, revenue: str, ads_revenue: str) -> asyncpg.Record | None:
    """``gmv`` (charges into ``clearing``), ``revenue`` and ``ads`` (credits to those accounts) in ``currency``."""
    return await sql.fetchrow(
        "SELECT COALESCE(sum(e.amount) FILTER (WHERE e.account = $2 AND t.type = 'charge' AND e.amount > 0), 0) "
        "AS gmv, COALESCE(-sum(e.amount) FILTER (WHERE e.account = $3), 0) AS revenue, "
        "COALESCE(-sum(e.amount) FILTER (WHERE e.account = $4), 0) AS ads "
        "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn WHERE e.currency = $1",
        currency,
        clearing,
        revenue,
        ads_revenue,
    )


# --- stripe_events (the webhook inbox) ---


async def store_event(event_id: str, type_: str, created: int, payload: str) -> Any:
    """Insert a delivered event once; ``True`` if it is new, ``None`` if it was already stored."""
    return await sql.fetchval(
        "INSERT INTO stripe_events (id, type, created, payload, received_at, outcome) "
        "VALUES ($1, $2, $3, $4::jsonb, now(), '') ON CONFLICT (id) DO NOTHING RETURNING true",
        event_id,
        type_,
        created,
        payload,
    )


async def lock_unprocessed_event(event_id: str) -> asyncpg.Record | None:
    """The stored event if not yet processed, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM stripe_events WHERE id = $1 AND processed_at IS NULL FOR UPDATE", event_id)


async def mark_event_processed(event_id: str, outcome: str) -> None:
    """Record that the event was applied, with its outcome."""
    await sql.execute("UPDATE stripe_events SET processed_at = now(), outcome = $2 WHERE id = $1", event_id, outcome)


# --- locks ---


async def advisory_lock(name: str) -> None:
    """A transaction-scoped advisory lock on ``name``, held until the caller's transaction ends."""
    await sql.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", name)


# --- ledger_transactions and ledger_entries (double entry; balances are sums) ---


async def insert_ledger_transaction(
    txn_id: int,
    ref: str,
    type_: str,
    kind: str,
    creator: int | None,
    available_on: datetime | None,
    source: str | None,
) -> Any:
    """Insert a ledger transaction; its id, or ``None`` if ``ref`` was posted before."""
    return await sql.fetchval(
        "INSERT INTO ledger_transactions (id, reference, type, kind, creator, available_on, source, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, now()) ON CONFLICT (reference) DO NOTHING RETURNING id",
        txn_id,
        ref,
        type_,
        kind,
        creator,
        available_on,
        source,
    )


async def insert_ledger_entries(
    ids: list[int], txns: list[int], accounts: list[str], amounts: list[int], currencies: list[str]
) -> None:
    """Insert a transaction's entries in one statement (parallel arrays)."""
    await sql.execute(
        "INSERT INTO ledger_entries (id, txn, account, amount, currency) "
        "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[])",
        ids,
        txns,
        accounts,
        amounts,
        currencies,
    )


async def account_balance(account: str, currency: str) -> Any:
    """The signed sum of ``account``'s entries in ``currency``."""
    return await sql.fetchval(
        "SELECT COALESCE(sum(amount), 0) FROM ledger_entries WHERE account = $1 AND currency = $2", account, currency
    )


async def pending_of_charge(ref: str, pending_account: str) -> Any:
    """What ``pending_account`` still holds of charge ``ref`` (its share less refunds and holds sourced from it)."""
    return await sql.fetchval(
        "SELECT COALESCE(-sum(e.amount), 0) FROM ledger_transactions t JOIN ledger_entries e ON e.txn = t.id "
        "WHERE (t.reference = $1 OR t.source = $1) AND e.account = $2",
        ref,
        pending_account,
    )


async def ledger_ref_exists(ref: str) -> bool:
    """Whether a ledger transaction with reference ``ref`` was posted."""
    return bool(await sql.fetchval("SELECT EXISTS (SELECT 1 FROM ledger_transactions WHERE reference = $1)", ref))


async def charges_due(now: datetime, creator: int | None) -> list[asyncpg.Record]:
    """Charges (``reference``, ``creator``) whose ``available_on`` has come and that were not released yet."""
    return await sql.fetch(
        "SELECT t.reference, t.creator FROM ledger_transactions t WHERE t.type = 'charge' AND t.creator IS NOT NULL "
        "AND t.available_on <= $1 AND ($2::bigint IS NULL OR t.creator = $2) AND NOT EXISTS "
        "(SELECT 1 FROM ledger_transactions r WHERE r.reference = 'release:' || t.reference) ORDER BY t.creator, t.id",
        now,
        creator,
    )


async def ledger_currency(ref: str) -> Any:
    """The currency of ledger transaction ``ref`` (of one of its entries)."""
    return await sql.fetchval(
        "SELECT e.currency FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE t.reference = $1 LIMIT 1",
        ref,
    )


# The ledger's consistency checks (``ledger.check``): each returns the rows that break one invariant.


async def unbalanced_transactions() -> list[asyncpg.Record]:
    """Transactions (``ref``, ``currency``, ``total``) whose entries do not sum to zero in a currency."""
    return await sql.fetch(
        "SELECT t.reference AS ref, e.currency, sum(e.amount) AS total FROM ledger_transactions t "
        "JOIN ledger_entries e ON e.txn = t.id GROUP BY t.reference, e.currency HAVING sum(e.amount) <> 0"
    )


async def single_entry_transactions() -> list[asyncpg.Record]:
    """Transactions (``ref``) with exactly one entry."""
    return await sql.fetch(
        "SELECT t.reference AS ref FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn = t.id "
        "GROUP BY t.reference HAVING count(e.id) = 1"
    )


async def negative_creator_accounts() -> list[asyncpg.Record]:
    """Creator accounts (``account``, ``currency``, ``total``) whose balance is a debit."""
    return await sql.fetch(
        "SELECT account, currency, sum(amount) AS total FROM ledger_entries WHERE account LIKE 'creator:%' "
        "GROUP BY account, currency HAVING sum(amount) > 0"
    )


async def releases_with_pending_left() -> list[asyncpg.Record]:
    """Released charges (``ref``, ``left``) whose pending share is not zero."""
    return await sql.fetch(
        "SELECT r.source AS ref, sum(e.amount) AS left FROM ledger_transactions r "
        "JOIN ledger_transactions t ON t.reference = r.source OR t.source = r.source "
        "JOIN ledger_entries e ON e.txn = t.id AND e.account = 'creator:' || r.creator || ':pending' "
        "WHERE r.type = 'release' GROUP BY r.source HAVING sum(e.amount) <> 0"
    )


async def payments_refunded_vs_booked() -> list[asyncpg.Record]:
    """Every payment's ``refunded`` mirror with what the ledger ``booked`` as refunded from clearing."""
    return await sql.fetch(
        "SELECT p.id, p.refunded, COALESCE((SELECT sum(-e.amount) FROM payment_refunds r "
        "JOIN ledger_transactions t ON t.reference = 'refund:' || r.refund_id "
        "JOIN ledger_entries e ON e.txn = t.id AND e.account = 'stripe:clearing' WHERE r.payment = p.id), 0) AS booked "
        "FROM payments p"
    )


async def payments_refunded_out_of_range() -> list[asyncpg.Record]:
    """Payments (``id``, ``amount``, ``refunded``) refunded below zero or beyond their amount."""
    return await sql.fetch(
        "SELECT p.id, p.amount, p.refunded FROM payments p WHERE p.refunded > p.amount OR p.refunded < 0"
    )


async def ledger_size() -> tuple[int, int]:
    """How many ledger transactions and entries there are (for ``ledger-check``'s report)."""
    txns = await sql.fetchval("SELECT count(*) FROM ledger_transactions")
    entries = await sql.fetchval("SELECT count(*) FROM ledger_entries")
    return int(txns), int(entries)


# --- users, customers and payout accounts (what every service shares) ---

USER_COLUMNS = (
    "id, username, display_name, avatar_url, bio, followers_count, following_count, posts_count, "
    "is_private, role, created_at"
)


async def stripe_customer_id(user_id: int) -> Any:
    """The user's Stripe Customer id, ``None`` if none was created yet."""
    return await sql.fetchval('SELECT customer_id FROM stripe_customers WHERE "user" = $1', user_id)


async def user_email(user_id: int) -> Any:
    """The user's email (``None`` if the user has none or does not exist)."""
    return await sql.fetchval("SELECT email FROM users WHERE id = $1", user_id)


async def insert_stripe_customer(user_id: int, customer_id: str) -> None:
    """Store the user's Stripe Customer id unless one was stored first (a racing request)."""
    await sql.execute(
        'INSERT INTO stripe_customers ("user", customer_id, created_at) VALUES ($1, $2, now()) '
        'ON CONFLICT ("user") DO NOTHING',
        user_id,
        customer_id,
    )


async def users_by_id(ids: list[int]) -> list[asyncpg.Record]:
    """The public columns of the users ``ids``."""
    return await sql.fetch(f"SELECT {USER_COLUMNS} FROM users WHERE id = ANY($1)", ids)  # noqa: S608 — constant column list; values are $n


async def active_user_by_name(username: str) -> asyncpg.Record | None:
    """The public columns of the (not suspended) user ``username``."""
    return await sql.fetchrow(
        f"SELECT {USER_COLUMNS} FROM users WHERE username = lower($1) AND suspended_at IS NULL",  # noqa: S608 — constant column list; values are $n
        username,
    )


async def charges_enabled_account(user_id: int) -> Any:
    """The user's Connect account id if it may receive charges, else ``None``."""
    return await sql.fetchval('SELECT account_id FROM payout_accounts WHERE "user" = $1 AND charges_enabled', user_id)


# --- payout_accounts (creators' Connect accounts) and payouts ---


async def payout_account(user_id: int) -> asyncpg.Record | None:
    """The user's payout account row."""
    return await sql.fetchrow('SELECT * FROM payout_accounts WHERE "user" = $1', user_id)


async def insert_payout_account(
    user_id: int,
    account_id: str,
    charges_enabled: bool,
    payouts_enabled: bool,
    details_submitted: bool,
    default_currency: str,
) -> asyncpg.Record | None:
    """Store the user's new Connect account; the row."""
    return await sql.fetchrow(
        'INSERT INTO payout_accounts ("user", account_id, charges_enabled, payouts_enabled, '
        "details_submitted, default_currency, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING *",
        user_id,
        account_id,
        charges_enabled,
        payouts_enabled,
        details_submitted,
        default_currency,
    )


async def payout_default_currency(user_id: int) -> Any:
    """The default currency of the user's payout account, ``None`` without one."""
    return await sql.fetchval('SELECT default_currency FROM payout_accounts WHERE "user" = $1', user_id)


async def payout_account_id(user_id: int) -> Any:
    """The user's Connect account id, ``None`` without one."""
    return await sql.fetchval('SELECT account_id FROM payout_accounts WHERE "user" = $1', user_id)


async def lock_payout_account(account_id: str) -> asyncpg.Record | None:
    """The payout account with Connect id ``account_id``, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM payout_accounts WHERE account_id = $1 FOR UPDATE", account_id)


async def update_payout_account(
    account_id: str,
    charges_enabled: bool,
    payouts_enabled: bool,
    details_submitted: bool,
    default_currency: str | None,
) -> None:
    """Mirror the Connect account's capabilities (a ``None`` currency keeps the stored one)."""
    await sql.execute(
        "UPDATE payout_accounts SET charges_enabled = $2, payouts_enabled = $3, details_submitted = $4, "
        "default_currency = COALESCE($5, default_currency) WHERE account_id = $1",
        account_id,
        charges_enabled,
        payouts_enabled,
        details_submitted,
        default_currency,
    )


async def payout_by_idem(idem: str) -> asyncpg.Record | None:
    """The payout made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM payouts WHERE idem_key = $1", idem)


async def insert_payout(
    payout_id: int, creator: int, amount: int, currency: str, status: str, stripe_id: str, idem: str
) -> asyncpg.Record | None:
    """Store a requested payout; the row."""
    return await sql.fetchrow(
        "INSERT INTO payouts (id, creator, amount, currency, status, payout_id, idem_key, failure_message, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '', now()) RETURNING *",
        payout_id,
        creator,
        amount,
        currency,
        status,
        stripe_id,
        idem,
    )


async def payouts_of(creator: int, before: int | None, limit: int) -> list[asyncpg.Record]:
    """The creator's payouts with ids below ``before`` (all if ``None``), newest first, at most ``limit``."""
    return await sql.fetch(
        "SELECT * FROM payouts WHERE creator = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        creator,
        before,
        limit,
    )


async def lock_payout(stripe_id: str) -> asyncpg.Record | None:
    """The payout with Stripe id ``stripe_id``, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM payouts WHERE payout_id = $1 FOR UPDATE", stripe_id)


async def set_payout_status(payout_id: int, status: str, failure_message: str) -> None:
    """Mirror the payout's status at Stripe."""
    await sql.execute(
        "UPDATE payouts SET status = $2, failure_message = $3 WHERE id = $1", payout_id, status, failure_message
    )


async def earnings_by_kind(accounts: list[str], currency: str) -> list[asyncpg.Record]:
    """Per kind, what ``accounts`` earned from charges, refunds and lost disputes."""
    return await sql.fetch(
        "SELECT t.kind, -sum(e.amount) AS total FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE e.account = ANY($1) AND e.currency = $2 AND t.type IN ('charge', 'refund', 'dispute_lost') "
        "GROUP BY t.kind",
        accounts,
        currency,
    )


# --- payments (tips and purchases) and their refunds ---


async def payment_by_idem(idem: str) -> asyncpg.Record | None:
    """The payment made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM payments WHERE idem_key = $1", idem)


async def payment(payment_id: int) -> asyncpg.Record | None:
    """The payment ``payment_id``."""
    return await sql.fetchrow("SELECT * FROM payments WHERE id = $1", payment_id)


async def lock_payment(payment_id: int) -> asyncpg.Record | None:
    """The payment ``payment_id``, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM payments WHERE id = $1 FOR UPDATE", payment_id)


async def lock_payment_by_intent(intent_id: str | None) -> asyncpg.Record | None:
    """The payment of PaymentIntent ``intent_id``, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM payments WHERE intent_id = $1 FOR UPDATE", intent_id)


async def set_payment_status(payment_id: int, status: str) -> None:
    """Mirror the PaymentIntent's status."""
    await sql.execute("UPDATE payments SET status = $2 WHERE id = $1", payment_id, status)


async def mark_payment_disputed(payment_id: int) -> None:
    """The payment has an open dispute (its creator share is held)."""
    await sql.execute("UPDATE payments SET disputed = true WHERE id = $1", payment_id)


async def clear_payment_disputed(payment_id: int) -> None:
    """The payment's dispute was won."""
    await sql.execute("UPDATE payments SET disputed = false WHERE id = $1", payment_id)


async def add_refunded(payment_id: int, amount: int) -> None:
    """Add ``amount`` to the payment's ``refunded`` mirror of the ledger."""
    await sql.execute("UPDATE payments SET refunded = refunded + $2 WHERE id = $1", payment_id, amount)


async def payable_post(viewer: int, post_id: int) -> asyncpg.Record | None:
    """The post ``viewer`` may see, with its owner, price and whether ``viewer`` ``bought`` it."""
    from server.social.queries.visibility import VISIBLE  # lazily: social.queries embeds this module's predicates

    return await sql.fetchrow(
        "SELECT p.id, p.author AS owner, p.price_amount, p.price_currency, "  # noqa: S608 — constant visibility and purchase predicates; values are $n
        f"{bought('post_id', 'p.id')} AS bought FROM posts p JOIN users a ON a.id = p.author "
        f"WHERE p.id = $2 AND {VISIBLE}",
        viewer,
        post_id,
    )


async def payable_video(viewer: int, video_id: int) -> asyncpg.Record | None:
    """The video ``viewer`` may see, with its owner, price, status and whether ``viewer`` ``bought`` it."""
    from server.video import queries as video_queries  # lazily: video.queries embeds this module's predicates

    return await sql.fetchrow(
        "SELECT v.id, v.owner, v.price_amount, v.price_currency, v.status, "
        f"{bought('video_id', 'v.id')} AS bought {video_queries.FROM} "
        f"WHERE v.id = $2 AND {video_queries.visible()}",
        viewer,
        video_id,
    )


async def insert_payment(
    payment_id: int,
    kind: str,
    payer: int,
    recipient: int,
    amount: int,
    currency: str,
    fee: int,
    status: str,
    intent_id: str,
    client_secret: str,
    idem: str,
    message: str,
    live_id: int | None,
    post_id: int | None,
    video_id: int | None,
) -> asyncpg.Record | None:
    """Store a new payment (nothing refunded, not disputed); the row."""
    return await sql.fetchrow(
        "INSERT INTO payments (id, kind, payer, recipient, amount, currency, fee, status, intent_id, "
        "client_secret, idem_key, message, live_id, post_id, video_id, refunded, disputed, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, "
        "false, now()) RETURNING *",
        payment_id,
        kind,
        payer,
        recipient,
        amount,
        currency,
        fee,
        status,
        intent_id,
        client_secret,
        idem,
        message,
        live_id,
        post_id,
        video_id,
    )


async def payment_of_party(payment_id: int, user_id: int) -> asyncpg.Record | None:
    """The payment ``payment_id`` if ``user_id`` paid or received it."""
    return await sql.fetchrow(
        "SELECT * FROM payments WHERE id = $1 AND (payer = $2 OR recipient = $2)", payment_id, user_id
    )


async def payments_of_party(user_id: int, before: int | None, limit: int) -> list[asyncpg.Record]:
    """Payments ``user_id`` paid or received with ids below ``before`` (all if ``None``), newest first."""
    return await sql.fetch(
        "SELECT * FROM payments WHERE (payer = $1 OR recipient = $1) AND ($2::bigint IS NULL OR id < $2) "
        "ORDER BY id DESC LIMIT $3",
        user_id,
        before,
        limit,
    )


async def refund_by_idem(idem: str) -> asyncpg.Record | None:
    """The refund made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM payment_refunds WHERE idem_key = $1", idem)


async def refund_by_stripe_id(refund_id: str) -> asyncpg.Record | None:
    """The refund with Stripe id ``refund_id``."""
    return await sql.fetchrow("SELECT * FROM payment_refunds WHERE refund_id = $1", refund_id)


async def insert_refund(
    row_id: int,
    payment_id: int,
    refund_id: str,
    idem: str,
    amount: int,
    currency: str,
    status: str,
    requested_by: int,
) -> asyncpg.Record | None:
    """Store a refund once (by its Stripe id); the row, ``None`` if it was stored before."""
    return await sql.fetchrow(
        "INSERT INTO payment_refunds (id, payment, refund_id, idem_key, amount, currency, status, requested_by, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (refund_id) DO NOTHING RETURNING *",
        row_id,
        payment_id,
        refund_id,
        idem,
        amount,
        currency,
        status,
        requested_by,
    )


async def dispute_hold(ref: str, held_account: str) -> Any:
    """What dispute hold ``ref`` moved into ``held_account``."""
    return await sql.fetchval(
        "SELECT COALESCE(-sum(e.amount), 0) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE t.reference = $1 AND e.account = $2",
        ref,
        held_account,
    )


# --- fan_subscriptions and subscription_tiers ---


async def tier_by_idem(idem: str) -> asyncpg.Record | None:
    """The tier made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM subscription_tiers WHERE idem_key = $1", idem)


async def insert_tier(
    tier_id: int,
    creator: int,
    name: str,
    description: str,
    amount: int,
    currency: str,
    interval: str,
    product_id: str,
    price_id: str,
    idem: str,
) -> asyncpg.Record | None:
    """Store a new tier (its Stripe Product and Price made); the row."""
    return await sql.fetchrow(
        "INSERT INTO subscription_tiers (id, creator, name, description, amount, currency, interval, "
        "product_id, price_id, idem_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "now()) RETURNING *",
        tier_id,
        creator,
        name,
        description,
        amount,
        currency,
        interval,
        product_id,
        price_id,
        idem,
    )


async def tiers_of(creator: int) -> list[asyncpg.Record]:
    """The creator's tiers, cheapest first."""
    return await sql.fetch("SELECT * FROM subscription_tiers WHERE creator = $1 ORDER BY amount, id", creator)


async def tier(tier_id: int) -> asyncpg.Record | None:
    """The tier ``tier_id``."""
    return await sql.fetchrow("SELECT * FROM subscription_tiers WHERE id = $1", tier_id)


async def open_tier(tier_id: int) -> asyncpg.Record | None:
    """The tier ``tier_id`` if its creator is not suspended (it takes new subscribers)."""
    return await sql.fetchrow(
        "SELECT t.* FROM subscription_tiers t JOIN users u ON u.id = t.creator "
        "WHERE t.id = $1 AND u.suspended_at IS NULL",
        tier_id,
    )


async def subscription_by_idem(idem: str) -> asyncpg.Record | None:
    """The fan subscription made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM fan_subscriptions WHERE idem_key = $1", idem)


async def live_subscription_id(subscriber: int, creator: int, statuses: list[str]) -> Any:
    """The id of ``subscriber``'s not ended subscription to ``creator`` in one of ``statuses``, else ``None``."""
    return await sql.fetchval(
        "SELECT id FROM fan_subscriptions WHERE subscriber = $1 AND creator = $2 AND status = ANY($3) "
        "AND ended_at IS NULL",
        subscriber,
        creator,
        statuses,
    )


async def insert_subscription(
    sub_id: int,
    subscriber: int,
    creator: int,
    tier_id: int,
    subscription_id: str,
    item_id: str,
    status: str,
    client_secret: str | None,
    current_period_end: datetime | None,
    idem: str,
) -> asyncpg.Record | None:
    """Store a new fan subscription (no access yet); the row, or the one already stored for ``subscription_id``."""
    return await sql.fetchrow(
        "INSERT INTO fan_subscriptions (id, subscriber, creator, tier, subscription_id, item_id, status, "
        "client_secret, current_period_end, cancel_at_period_end, access_until, started_notified, idem_key, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, NULL, false, $10, "
        "now()) ON CONFLICT (subscription_id) DO UPDATE SET idem_key = fan_subscriptions.idem_key RETURNING *",
        sub_id,
        subscriber,
        creator,
        tier_id,
        subscription_id,
        item_id,
        status,
        client_secret,
        current_period_end,
        idem,
    )


async def change_subscription_tier(
    sub_id: int, tier_id: int, status: str, current_period_end: datetime | None
) -> asyncpg.Record | None:
    """Move the subscription to ``tier_id`` (a ``None`` period end keeps the stored one); the row."""
    return await sql.fetchrow(
        "UPDATE fan_subscriptions SET tier = $2, status = $3, current_period_end = COALESCE($4, "
        "current_period_end) WHERE id = $1 RETURNING *",
        sub_id,
        tier_id,
        status,
        current_period_end,
    )


async def cancel_subscription_now(sub_id: int, status: str) -> asyncpg.Record | None:
    """The subscription ended now and access with it; the row."""
    return await sql.fetchrow(
        "UPDATE fan_subscriptions SET status = $2, ended_at = now(), access_until = "
        "LEAST(access_until, now()) WHERE id = $1 RETURNING *",
        sub_id,
        status,
    )


async def cancel_subscription_at_period_end(sub_id: int, status: str) -> asyncpg.Record | None:
    """The subscription ends with its period; the row."""
    return await sql.fetchrow(
        "UPDATE fan_subscriptions SET cancel_at_period_end = true, status = $2 WHERE id = $1 RETURNING *",
        sub_id,
        status,
    )


async def subscriptions_of(subscriber: int, before: int | None, limit: int) -> list[asyncpg.Record]:
    """``subscriber``'s subscriptions with ids below ``before`` (all if ``None``), newest first."""
    return await sql.fetch(
        "SELECT * FROM fan_subscriptions WHERE subscriber = $1 AND ($2::bigint IS NULL OR id < $2) "
        "ORDER BY id DESC LIMIT $3",
        subscriber,
        before,
        limit,
    )


async def subscription_of(sub_id: int, subscriber: int, *, for_update: bool = False) -> asyncpg.Record | None:
    """The subscription ``sub_id`` if it is ``subscriber``'s; with ``for_update``, locked until the caller's
    transaction ends."""
    return await sql.fetchrow(
        "SELECT * FROM fan_subscriptions WHERE id = $1 AND subscriber = $2" + (" FOR UPDATE" if for_update else ""),  # noqa: S608 — a constant lock clause; values are $n
        sub_id,
        subscriber,
    )


async def lock_subscription(subscription_id: str) -> asyncpg.Record | None:
    """The fan subscription with Stripe id ``subscription_id``, locked ``FOR UPDATE`` until the caller's
    transaction ends."""
    return await sql.fetchrow("SELECT * FROM fan_subscriptions WHERE subscription_id = $1 FOR UPDATE", subscription_id)


async def tier_id_by_price(price_id: str) -> Any:
    """The tier whose Stripe Price is ``price_id``, ``None`` if none."""
    return await sql.fetchval("SELECT id FROM subscription_tiers WHERE price_id = $1", price_id)


async def mirror_subscription(
    sub_id: int, status: str, cancel_at_period_end: bool, current_period_end: datetime | None, tier: int | None
) -> None:
    """Mirror the Stripe subscription's state (``None`` period end or tier keeps the stored one)."""
    await sql.execute(
        "UPDATE fan_subscriptions SET status = $2, cancel_at_period_end = $3, "
        "current_period_end = COALESCE($4, current_period_end), tier = COALESCE($5, tier) WHERE id = $1",
        sub_id,
        status,
        cancel_at_period_end,
        current_period_end,
        tier,
    )


async def end_subscription(sub_id: int) -> None:
    """The subscription ended (once): access stops now at the latest."""
    await sql.execute(
        "UPDATE fan_subscriptions SET ended_at = COALESCE(ended_at, now()), "
        "access_until = LEAST(access_until, now()) WHERE id = $1",
        sub_id,
    )


async def cut_access_to_grace(sub_id: int, grace_seconds: float) -> None:
    """Access lasts ``grace_seconds`` from now at the most."""
    await sql.execute(
        "UPDATE fan_subscriptions SET access_until = LEAST(access_until, now() + make_interval(secs => $2)) "
        "WHERE id = $1",
        sub_id,
        grace_seconds,
    )


async def grant_access_until(sub_id: int, until: datetime) -> None:
    """Access lasts until ``until``, unless the subscription ended."""
    await sql.execute(
        "UPDATE fan_subscriptions SET access_until = $2 WHERE id = $1 AND ended_at IS NULL", sub_id, until
    )


async def mark_started_notified(sub_id: int) -> None:
    """The creator was told of this subscription's start."""
    await sql.execute("UPDATE fan_subscriptions SET started_notified = true WHERE id = $1", sub_id)
