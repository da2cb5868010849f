"""Domain events -> notifications, in the transaction of the change.

``NotificationHandlers`` is built by the composition root with the process's push settings and subscribes
while its runtime runs (``subscribe(bus)``/``unsubscribe(bus)`` on the process's ``EventBus``, as
``AdsRuntime`` does).
"""

from __future__ import annotations

from typing import Any

from server import events
from server.notifications import queries
from server.notifications.services import notify
from server.social.queries import fanout as social_audiences
from server.social.queries import graph as social_graph


async def on_followed(e: events.Followed) -> None:
    await notify(e.target_id, "follow_request" if e.pending else "follow", e.actor_id, "user", e.actor_id)


async def on_follow_accepted(e: events.FollowAccepted) -> None:
    await notify(e.follower_id, "follow_accepted", e.actor_id, "user", e.actor_id)


class NotificationHandlers:
    """The handlers whose notifications depend on the settings: like and repost pushes wait for their group."""

    def __init__(self, collapse_seconds: float) -> None:
        self.collapse_seconds = collapse_seconds
        """``PUSH_COLLAPSE_SECONDS``: a like's or repost's push waits this long for more of its group."""

    async def on_liked(self, e: events.Liked) -> None:
        # The unique index makes like -> unlike -> like one notification (and one push), like Mastodon.
        await notify(e.post_author_id, "like", e.actor_id, "post", e.post_id, collapse_seconds=self.collapse_seconds)

    async def on_post_published(self, e: events.PostPublished) -> None:
        await on_post_published(e, self.collapse_seconds)

    def _table(self) -> list[tuple[type[events.DomainEvent], Any]]:
        return [
            (events.Followed, on_followed),
            (events.FollowAccepted, on_follow_accepted),
            (events.Liked, self.on_liked),
            (events.Commented, on_commented),
            (events.PostPublished, self.on_post_published),
            (events.LiveStarted, on_live_started),
            (events.PaymentReceived, on_payment_received),
            (events.SubscriptionStarted, on_subscription_started),
            (events.PayoutPaid, on_payout_paid),
        ]

    def subscribe(self, bus: events.EventBus) -> None:
        """Start turning the domain events of ``bus`` into notifications (the runtime's start)."""
        for event_type, handler in self._table():
            bus.subscribe(event_type, handler)

    def unsubscribe(self, bus: events.EventBus) -> None:
        for event_type, handler in self._table():
            bus.unsubscribe(event_type, handler)


async def on_commented(e: events.Commented) -> None:
    extra = {"comment_id": str(e.comment_id)}
    told = {e.actor_id}
    if e.parent_author_id is not None and e.parent_author_id not in told:
        await notify(
            e.parent_author_id, "reply", e.actor_id, "comment", e.comment_id, {**extra, "post_id": str(e.post_id)}
        )
        told.add(e.parent_author_id)
    if e.post_author_id not in told:
        await notify(e.post_author_id, "comment", e.actor_id, "post", e.post_id, extra)
        told.add(e.post_author_id)
    for user_id in e.mentioned_ids:
        if user_id not in told:
            await notify(user_id, "mention", e.actor_id, "comment", e.comment_id, {**extra, "post_id": str(e.post_id)})
            told.add(user_id)


async def on_post_published(e: events.PostPublished, collapse_seconds: float) -> None:
    told = {e.actor_id}
    if e.repost_of_id is not None and e.repost_of_author_id is not None:
        extra = {"repost_id": str(e.post_id)}
        await notify(
            e.repost_of_author_id,
            "repost",
            e.actor_id,
            "post",
            e.repost_of_id,
            extra,
            collapse_seconds=collapse_seconds,
        )
        told.add(e.repost_of_author_id)
        return  # a repost is not a new post for the reposter's subscribers
    for user_id in e.mentioned_ids:
        if user_id not in told:
            await notify(user_id, "mention", e.actor_id, "post", e.post_id)
            told.add(user_id)
    if e.visibility == "private":
        return
    # A private account's "public" post is for its followers only: bell subscribers are filtered the same way.
    for user_id in await _subscribers(e.actor_id, "followers" if e.author_private else e.visibility):
        if user_id not in told:
            await notify(user_id, "new_post", e.actor_id, "post", e.post_id)


async def on_live_started(e: events.LiveStarted) -> None:
    """Followers hear that someone they follow went live (a private stream tells no one)."""
    if e.visibility == "private":
        return
    for follower in await queries.followers_of(e.actor_id):
        await notify(follower, "live_started", e.actor_id, "live", e.stream_id)


async def _subscribers(author_id: int, visibility: str) -> list[int]:
    users = await queries.author_subscribers(author_id)
    if visibility == "public":
        return users
    if visibility == "subscribers":  # only those whose paid subscription gives access hear of it
        allowed = set(await social_audiences.paying_subscribers(author_id))
        return [u for u in users if u in allowed]
    return [u for u in users if await social_graph.follows(u, author_id)]  # followers-only: accepted followers


async def on_payment_received(e: events.PaymentReceived) -> None:
    extra = {"kind": e.kind, "amount": e.amount, "currency": e.currency}
    await notify(e.recipient_id, "payment_received", e.actor_id, "payment", e.payment_id, extra)


async def on_subscription_started(e: events.SubscriptionStarted) -> None:
    await notify(e.creator_id, "subscription_started", e.actor_id, "subscription", e.subscription_id)


async def on_payout_paid(e: events.PayoutPaid) -> None:
    extra = {"amount": e.amount, "currency": e.currency}
    await notify(e.actor_id, "payout_paid", None, "payout", e.payout_id, extra)
