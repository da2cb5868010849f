"""Notifications, their preferences and author subscriptions (the bell): ``/notifications``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from server.accounts.schemas import UserPublic
from server.deps import AuthUser
from server.notifications import authors, preferences
from server.notifications.deps import provide_notifications
from server.notifications.schemas import (
    GroupPage,
    MarkRead,
    NotificationPage,
    Preferences,
    PreferencesUpdate,
    UnreadCount,
)
from server.notifications.services import NotificationService
from server.openapi import problems
from server.params import Cursor, Limit
from server.ratelimit import write_limit

Types = Annotated[list[str] | None, Parameter(description="only these types (repeatable)")]


class NotificationController(Controller):
    path = "/notifications"
    tags = ["notifications"]
    dependencies = {"notifications": Provide(provide_notifications, sync_to_thread=False)}

    @get("/", summary="The caller's notifications, newest first", responses=problems(401, 422))
    async def list_notifications(
        self,
        current_user: AuthUser,
        notifications: NamedDependency[NotificationService],
        limit: Limit = 20,
        cursor: Cursor = None,
        types: Types = None,
    ) -> NotificationPage:
        return await notifications.page(current_user.id, types, limit, cursor)

    @get("/grouped", summary="Grouped view: one item per group (alice and 4 others…)", responses=problems(401, 422))
    async def grouped(
        self,
        current_user: AuthUser,
        notifications: NamedDependency[NotificationService],
        limit: Limit = 20,
        cursor: Cursor = None,
        types: Types = None,
    ) -> GroupPage:
        return await notifications.grouped(current_user.id, types, limit, cursor)

    @get("/unread-count", summary="How many are unread", responses=problems(401))
    async def unread_count(
        self, current_user: AuthUser, notifications: NamedDependency[NotificationService]
    ) -> UnreadCount:
        return UnreadCount(count=await notifications.unread_count(current_user.id))

    @post("/read", status_code=204, summary="Mark `ids` or `all` read", responses=problems(401, 404, 422))
    async def mark_read(
        self, data: JSONBody[MarkRead], current_user: AuthUser, notifications: NamedDependency[NotificationService]
    ) -> None:
        await notifications.mark_read(current_user.id, data)

    @get("/preferences", summary="Type x channel matrix, quiet hours", responses=problems(401))
    async def get_preferences(self, current_user: AuthUser) -> Preferences:
        return preferences.view(await preferences.load(current_user.id))

    @put("/preferences", summary="Change some of the matrix, quiet hours", responses=problems(401, 422))
    async def put_preferences(self, data: JSONBody[PreferencesUpdate], current_user: AuthUser) -> Preferences:
        return preferences.view(await preferences.update(current_user.id, data))

    @get("/subscriptions", summary="Authors whose new posts notify the caller", responses=problems(401))
    async def subscriptions(self, current_user: AuthUser) -> list[UserPublic]:
        return await authors.subscribed(current_user.id)

    @post(
        "/subscriptions/{username:str}",
        guards=[write_limit("follows")],
        status_code=201,
        summary="Be notified of an author's new posts",
        responses=problems(401, 404, 422),
    )
    async def subscribe(self, username: FromPath[str], current_user: AuthUser) -> UserPublic:
        return await authors.subscribe(current_user.id, username)

    @delete("/subscriptions/{username:str}", status_code=204, summary="Stop that", responses=problems(401, 404))
    async def unsubscribe(self, username: FromPath[str], current_user: AuthUser) -> None:
        await authors.unsubscribe(current_user.id, username)
