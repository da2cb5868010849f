"""Push registrations (devices and browsers) and the Web Push key: ``/push-tokens``."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from server.deps import AuthUser
from server.errors import NotFound
from server.notifications.deps import provide_push_tokens
from server.notifications.push_tokens import PushTokenService
from server.notifications.runtime import NotificationsRuntime
from server.notifications.schemas import PushTokenCreate, PushTokenPage, PushTokenView, VapidKey
from server.openapi import problems
from server.params import parse_id
from server.ratelimit import write_limit


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
