"""Notification, preference, author-subscription and push-token endpoints: thin, the rules are in services."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from server.accounts.schemas import UserPublic
from server.deps import AuthUser
from server.errors import NotFound
from server.notifications import authors, preferences
from server.notifications.push_tokens import PushTokenService
from server.notifications.runtime import NotificationsRuntime
from server.notifications.schemas import (
    GroupPage,
    MarkRead,
    NotificationPage,
    Preferences,
    PreferencesUpdate,
    PushTokenCreate,
    PushTokenPage,
    PushTokenView,
    UnreadCount,
    VapidKey,
)
from server.notifications.services import NotificationService
from server.openapi import problems
from server.params import Cursor, Limit, parse_id
from server.ratelimit import write_limit
from server.settings import Settings

Types = Annotated[list[str] | None, Parameter(description="only these types (repeatable)")]


def provide_notifications(
    settings: NamedDependency[Settings], notifications_runtime: NamedDependency[NotificationsRuntime]
) -> NotificationService:
    return NotificationService(settings, notifications_runtime.position_of)


def provide_push_tokens(settings: NamedDependency[Settings]) -> PushTokenService:
    return PushTokenService(settings)


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


class PushTokenController(Controller):
    path = "/push-tokens"
    tags = ["push"]
    dependencies = {"push_tokens": Provide(provide_push_tokens, sync_to_thread=False)}

    @post(
        "/",
        status_code=201,
        summary="Register a device or browser (idempotent)",
        guards=[write_limit("push_tokens")],
        responses=problems(401, 422),
    )
    async def register(
        self, data: JSONBody[PushTokenCreate], current_user: AuthUser, push_tokens: NamedDependency[PushTokenService]
    ) -> PushTokenView:
        return await push_tokens.register(current_user.id, data)

    @get("/", summary="The caller's registrations", responses=problems(401))
    async def list_tokens(
        self, current_user: AuthUser, push_tokens: NamedDependency[PushTokenService]
    ) -> PushTokenPage:
        return PushTokenPage(items=await push_tokens.mine(current_user.id))

    @delete("/{token_id:str}", status_code=204, summary="Unregister one of the caller's", responses=problems(401, 404))
    async def unregister(
        self, token_id: FromPath[str], current_user: AuthUser, push_tokens: NamedDependency[PushTokenService]
    ) -> None:
        await push_tokens.delete(current_user.id, parse_id(token_id, "no such push token"))

    @get("/vapid-key", summary="The Web Push application server key", responses=problems(404))
    async def vapid_key(self, notifications_runtime: NamedDependency[NotificationsRuntime]) -> VapidKey:
        provider = notifications_runtime.providers.get("webpush")
        public_key = getattr(provider, "public_key", None)
        if not public_key:
            raise NotFound("Web Push is not configured")
        return VapidKey(public_key=public_key)
