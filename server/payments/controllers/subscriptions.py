"""Creators' tiers and fans' subscriptions."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from server.deps import AuthUser
from server.guards import requires_creator
from server.openapi import problems
from server.pagination import Page
from server.params import Cursor, Limit, body_id
from server.payments import schemas
from server.payments.controllers.params import IdemKey, ObjectId
from server.payments.services.subscriptions import SubscriptionService
from server.ratelimit import write_limit


class TierController(Controller):
    tags = ["subscriptions"]

    @post(
        "/creators/me/tiers",
        status_code=201,
        guards=[requires_creator],
        summary="Define a subscription tier (a Stripe Product + Price)",
        responses=problems(401, 403, 409, 422, 503),
    )
    async def create_tier(
        self,
        current_user: AuthUser,
        subscriptions: NamedDependency[SubscriptionService],
        data: JSONBody[schemas.TierCreate],
        idempotency_key: IdemKey = None,
    ) -> schemas.TierView:
        return await subscriptions.create_tier(current_user, data, idempotency_key)

    @get("/users/{username:str}/tiers", summary="A creator's tiers", responses=problems(404))
    async def tiers(
        self, subscriptions: NamedDependency[SubscriptionService], username: FromPath[str]
    ) -> list[schemas.TierView]:
        return await subscriptions.tiers_of(username)


class SubscriptionController(Controller):
    path = "/subscriptions"
    tags = ["subscriptions"]

    @post(
        "/",
        status_code=201,
        summary="Subscribe to a tier",
        responses=problems(401, 404, 409, 422, 429, 503),
        guards=[write_limit("payments")],
    )
    async def subscribe(
        self,
        current_user: AuthUser,
        subscriptions: NamedDependency[SubscriptionService],
        data: JSONBody[schemas.SubscriptionCreate],
        idempotency_key: IdemKey = None,
    ) -> schemas.SubscriptionView:
        return await subscriptions.subscribe(current_user, data, idempotency_key)

    @get("/", summary="The caller's subscriptions", responses=problems(401, 422, 503))
    async def mine(
        self,
        current_user: AuthUser,
        subscriptions: NamedDependency[SubscriptionService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[schemas.SubscriptionView]:
        return await subscriptions.mine(current_user, limit, cursor)

    @get("/{sub_id:int}", summary="One of the caller's subscriptions", responses=problems(401, 404, 503))
    async def get_one(
        self, current_user: AuthUser, subscriptions: NamedDependency[SubscriptionService], sub_id: ObjectId
    ) -> schemas.SubscriptionView:
        return await subscriptions.get(current_user, sub_id)

    @patch(
        "/{sub_id:int}",
        summary="Upgrade or downgrade to another tier of the same creator (prorated)",
        responses=problems(401, 404, 409, 422, 503),
    )
    async def change(
        self,
        current_user: AuthUser,
        subscriptions: NamedDependency[SubscriptionService],
        sub_id: ObjectId,
        data: JSONBody[schemas.SubscriptionChange],
    ) -> schemas.SubscriptionView:
        return await subscriptions.change_tier(current_user, sub_id, body_id(data.tier_id))

    @delete(
        "/{sub_id:int}",
        status_code=200,
        summary="Cancel at the period's end, or now with ?immediately=true",
        responses=problems(401, 404, 503),
    )
    async def cancel(
        self,
        current_user: AuthUser,
        subscriptions: NamedDependency[SubscriptionService],
        sub_id: ObjectId,
        immediately: Annotated[bool, Parameter(description="end access now")] = False,
    ) -> schemas.SubscriptionView:
        return await subscriptions.cancel(current_user, sub_id, immediately)
