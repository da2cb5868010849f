"""The ledger's SQL: double-entry transactions and entries (balances are sums), the named advisory lock,
and the consistency checks ``ledger.check`` runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from server import sql

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
