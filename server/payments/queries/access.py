"""Payments' predicates other domains embed in their visibility rules: a purchase kept, a subscription giving access."""

from __future__ import annotations


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
