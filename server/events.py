"""In-process domain events: how one domain tells others what happened, without importing them.

``social`` dispatches ``Followed``, ``Liked``… on the process's ``EventBus`` inside its transaction;
``notifications`` subscribes handlers (``NotificationHandlers``, subscribed by ``server.runtime`` while it
runs) that run in that same transaction, so a notification commits or rolls back with the change that
caused it. The bus is built once by the composition root and handed to every domain that uses it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    actor_id: int


class Followed(DomainEvent, frozen=True):
    """``actor_id`` now follows ``target_id`` (or asked to, when ``pending``)."""

    target_id: int
    pending: bool = False


class FollowAccepted(DomainEvent, frozen=True):
    """``actor_id`` (a private account) accepted ``follower_id``'s request."""

    follower_id: int


class PostPublished(DomainEvent, frozen=True):
    """A new post (or repost, with ``repost_of_id``) by ``actor_id``."""

    post_id: int
    visibility: str
    mentioned_ids: tuple[int, ...] = ()
    """Mentioned users who may see the post (social filters by its visibility rule)."""
    author_private: bool = False
    """A private account's posts reach followers only, whatever their visibility says."""
    repost_of_id: int | None = None
    repost_of_author_id: int | None = None


class Liked(DomainEvent, frozen=True):
    post_id: int
    post_author_id: int


class Unliked(DomainEvent, frozen=True):
    post_id: int
    post_author_id: int


class Commented(DomainEvent, frozen=True):
    """A comment on ``post_id``; ``parent_author_id`` is set for a reply to another comment."""

    post_id: int
    post_author_id: int
    comment_id: int
    parent_comment_id: int | None = None
    parent_author_id: int | None = None
    mentioned_ids: tuple[int, ...] = ()


class LiveStarted(DomainEvent, frozen=True):
    """``actor_id`` went live on ``stream_id`` (``visibility``: public, followers or private)."""

    stream_id: int
    visibility: str


class Blocked(DomainEvent, frozen=True):
    """``actor_id`` blocked ``target_id`` (neither sees the other's posts or ads any more)."""

    target_id: int


class PaymentReceived(DomainEvent, frozen=True):
    """Stripe confirmed ``actor_id``'s payment (a tip or a purchase) to ``recipient_id``."""

    recipient_id: int
    payment_id: int
    kind: str
    amount: int
    currency: str


class SubscriptionStarted(DomainEvent, frozen=True):
    """``actor_id``'s first paid (or trial) invoice for ``creator_id``'s tier."""

    creator_id: int
    subscription_id: int
    tier_id: int


class PayoutPaid(DomainEvent, frozen=True):
    """A payout of ``actor_id`` (the creator) reached their bank."""

    payout_id: int
    amount: int
    currency: str


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], Awaitable[None]]


class EventBus:
    """The handlers of each event type; one per process, built by the composition root (``server.runtime``)
    and handed to the domains that dispatch (by constructor or DI) and to those that subscribe."""

    def __init__(self) -> None:
        self._by_type: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        """Run ``handler(event)`` for every dispatched ``event_type`` (idempotent per handler)."""
        if handler not in self._by_type[event_type]:
            self._by_type[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        """Stop running ``handler`` for ``event_type`` (a runtime that stops removes its handlers)."""
        if handler in self._by_type.get(event_type, ()):
            self._by_type[event_type].remove(handler)

    async def dispatch(self, event: DomainEvent) -> None:
        """Run the handlers of ``event``'s type, in order, in the caller's transaction."""
        for handler in self._by_type.get(type(event), ()):
            await handler(event)
