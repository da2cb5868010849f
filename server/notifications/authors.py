"""Subscriptions to an author's new posts (the bell on a profile)."""

from __future__ import annotations

from models.accounts import User
from models.notifications import AuthorSubscription
from server.accounts.schemas import UserPublic, user_public
from server.errors import NotFound, ValidationFailed
from server.notifications import queries


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
    if await queries.is_silenced(author["id"], user_id):
        raise NotFound("no such user")
    await queries.subscribe_author(user_id, author["id"])
    return user_public(author)


async def unsubscribe(user_id: int, username: str) -> None:
    author = await _author(username)
    await AuthorSubscription.delete().where(
        (AuthorSubscription.user == user_id) & (AuthorSubscription.author == author["id"])
    )


async def subscribed(user_id: int) -> list[UserPublic]:
    return [user_public(r) for r in await queries.subscribed_authors(user_id)]
