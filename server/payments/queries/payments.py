"""Payments (tips and purchases), their refunds and dispute holds."""

from __future__ import annotations

from typing import Any

import asyncpg

from server import sql
from server.payments.queries.access import bought


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
    from server.video.queries import visibility as video_visibility  # lazily: it embeds payments' predicates

    return await sql.fetchrow(
        "SELECT v.id, v.owner, v.price_amount, v.price_currency, v.status, "
        f"{bought('video_id', 'v.id')} AS bought {video_visibility.FROM} "
        f"WHERE v.id = $2 AND {video_visibility.visible()}",
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
