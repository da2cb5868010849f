"""Payments SQL other domains embed in their visibility rules."""

from __future__ import annotations


def subscriber_access(owner: str) -> str:
    """SQL: viewer ``$1`` has access to ``owner``'s (a column) subscriber-only content right now.

    ``access_until`` is set by ``invoice.paid``, cut to now + grace on ``past_due`` and to now when the
    subscription ends, so this one comparison is the whole rule (served by ``fan_subscriptions_access``).
    """
    return (
        "EXISTS (SELECT 1 FROM fan_subscriptions s "
        f"WHERE s.subscriber = $1 AND s.creator = {owner} AND s.access_until > now())"
    )
