"""Creators' Connect accounts (``payout_accounts``), their payouts, and earnings by kind."""

from __future__ import annotations

from typing import Any

import asyncpg

from server import sql


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
