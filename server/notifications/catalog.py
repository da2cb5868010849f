"""The closed vocabulary of notification types and channels, and the default preference matrix."""

from __future__ import annotations

TYPES: tuple[str, ...] = (
    "follow",
    "follow_request",
    "follow_accepted",
    "like",
    "comment",
    "reply",
    "mention",
    "repost",
    "new_post",
    "live_started",
    "payment_received",
    "subscription_started",
    "payout_paid",
    "system",
    "video_ready",
    "data_export_ready",
)
CHANNELS: tuple[str, ...] = ("in_app", "push", "email")

# Likes and reposts are frequent and low-stakes: in-app and push (collapsed), not email.
# Money, requests and direct speech (mention, reply, comment) are worth a digest line.
_NO_EMAIL = {"like", "repost", "follow_accepted", "new_post", "live_started", "video_ready"}
DEFAULTS: dict[str, dict[str, bool]] = {t: {"in_app": True, "push": True, "email": t not in _NO_EMAIL} for t in TYPES}

# Types whose notifications fold into one group per subject (Mastodon's grouped notifications).
GROUPED_BY_SUBJECT = {"like", "repost"}


def group_key(type_: str, subject_type: str, subject_id: int, notification_id: int, day: str) -> str:
    """The key notifications of one group share; ungrouped ones get a key of their own."""
    if type_ in GROUPED_BY_SUBJECT and subject_id:
        return f"{type_}:{subject_type}:{subject_id}"
    if type_ == "follow":
        return f"follow:{day}"
    return f"{type_}:n:{notification_id}"


def effective(overrides: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    """The full type x channel matrix: defaults with ``overrides`` applied."""
    return {t: {c: bool(overrides.get(t, {}).get(c, DEFAULTS[t][c])) for c in CHANNELS} for t in TYPES}
