"""Domain events -> notifications, in the transaction of the change (wired once by ``register``)."""

from __future__ import annotations

from server import events
from server.notifications import queries
from server.notifications.services import notify
from server.social import queries as social_queries


async def on_followed(e: events.Followed) -> None:
    await notify(e.target_id, "follow_request" if e.pending else "follow", e.actor_id, "user", e.actor_id)


async def on_follow_accepted(e: events.FollowAccepted) -> None:
    await notify(e.follower_id, "follow_accepted", e.actor_id, "user", e.actor_id)


async def on_liked(e: events.Liked) -> None:
    # The unique index makes like -> unlike -> like one notification (and one push), like Mastodon.
    await notify(e.post_author_id, "like", e.actor_id, "post", e.post_id)


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


async def on_post_published(e: events.PostPublished) -> None:
    told = {e.actor_id}
    if e.repost_of_id is not None and e.repost_of_author_id is not None:
        await notify(e.repost_of_author_id, "repost", e.actor_id, "post", e.repost_of_id, {"repost_id": str(e.post_id)})
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
        allowed = set(await social_queries.paying_subscribers(author_id))
        return [u for u in users if u in allowed]
    return [u for u in users if await social_queries.follows(u, author_id)]  # followers-only: accepted followers


async def on_payment_received(e: events.PaymentReceived) -> None:
    extra = {"kind": e.kind, "amount": e.amount, "currency": e.currency}
    await notify(e.recipient_id, "payment_received", e.actor_id, "payment", e.payment_id, extra)


async def on_subscription_started(e: events.SubscriptionStarted) -> None:
    await notify(e.creator_id, "subscription_started", e.actor_id, "subscription", e.subscription_id)


async def on_payout_paid(e: events.PayoutPaid) -> None:
    extra = {"amount": e.amount, "currency": e.currency}
    await notify(e.actor_id, "payout_paid", None, "payout", e.payout_id, extra)


def register() -> None:
    """Subscribe the notification handlers to the domain events (idempotent)."""
    events.subscribe(events.Followed, on_followed)
    events.subscribe(events.FollowAccepted, on_follow_accepted)
    events.subscribe(events.Liked, on_liked)
    events.subscribe(events.Commented, on_commented)
    events.subscribe(events.PostPublished, on_post_published)
    events.subscribe(events.LiveStarted, on_live_started)
    events.subscribe(events.PaymentReceived, on_payment_received)
    events.subscribe(events.SubscriptionStarted, on_subscription_started)
    events.subscribe(events.PayoutPaid, on_payout_paid)
