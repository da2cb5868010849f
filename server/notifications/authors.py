"""Subscriptions to an author's new posts (the bell on a profile)."""

from __future__ import annotations

from models.accounts import User
from models.ids import new_id
from models.notifications import AuthorSubscription
from server.accounts.schemas import UserPublic, user_public
from server.errors import NotFound, ValidationFailed
from server.notifications import seams


async def _author(username: str) -> dict:
    row = await User.select().where(User.username == username.lower()).first()
    if row is None or row["suspended_at"] is not None:
        raise NotFound("no such user")
    return row


async def subscribe(user_id: int, username: str) -> UserPublic:
    """Be notified of ``username``'s new posts (idempotent); not of oneself, not of someone blocking you."""
    author = await _author(username)
    if author["id"] == user_id:
        raise ValidationFailed("you cannot subscribe to yourself")
    if await seams.is_silenced(author["id"], user_id):
        raise NotFound("no such user")
    await AuthorSubscription.raw(
        'INSERT INTO author_subscriptions (id, "user", author, created_at) VALUES ({}, {}, {}, now()) '
        "ON CONFLICT DO NOTHING",
        new_id(),
        user_id,
        author["id"],
    )
    return user_public(author)


async def unsubscribe(user_id: int, username: str) -> None:
    author = await _author(username)
    await AuthorSubscription.delete().where(
        (AuthorSubscription.user == user_id) & (AuthorSubscription.author == author["id"])
    )


async def subscribed(user_id: int) -> list[UserPublic]:
    rows = await User.raw(
        "SELECT u.* FROM author_subscriptions s JOIN users u ON u.id = s.author "
        'WHERE s."user" = {} ORDER BY s.id DESC LIMIT 1000',
        user_id,
    )
    return [user_public(r) for r in rows]
