"""A creator's payout account, earnings, payouts and analytics."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from server.deps import AuthUser
from server.guards import requires_creator
from server.openapi import problems
from server.pagination import Page
from server.params import Cursor, Limit
from server.payments import schemas
from server.payments.controllers.params import IdemKey
from server.payments.services.analytics import AnalyticsService
from server.payments.services.payouts import PayoutService

CurrencyParam = Annotated[str | None, Parameter(pattern=r"^[a-zA-Z]{3}$", description="default: the account's")]


class CreatorPaymentsController(Controller):
    path = "/creators/me"
    tags = ["payouts"]
    guards = [requires_creator]

    @post(
        "/payout-account",
        status_code=200,
        summary="Stripe Connect Express account and an onboarding link",
        responses=problems(401, 403, 503),
    )
    async def payout_account(
        self, current_user: AuthUser, payouts: NamedDependency[PayoutService]
    ) -> schemas.PayoutAccountView:
        return await payouts.payout_account(current_user)

    @get("/earnings", summary="Available, pending and lifetime earnings by kind", responses=problems(401, 403, 503))
    async def earnings(
        self, current_user: AuthUser, payouts: NamedDependency[PayoutService], currency: CurrencyParam = None
    ) -> schemas.Earnings:
        return await payouts.earnings(current_user, currency)

    @post("/payouts", status_code=201, summary="Request a payout", responses=problems(401, 403, 422, 503))
    async def request_payout(
        self,
        current_user: AuthUser,
        payouts: NamedDependency[PayoutService],
        data: JSONBody[schemas.PayoutCreate],
        idempotency_key: IdemKey = None,
    ) -> schemas.PayoutView:
        return await payouts.request(current_user, data, idempotency_key)

    @get("/payouts", summary="The creator's payouts", responses=problems(401, 403, 422, 503))
    async def list_payouts(
        self, current_user: AuthUser, payouts: NamedDependency[PayoutService], limit: Limit = 20, cursor: Cursor = None
    ) -> Page[schemas.PayoutView]:
        return await payouts.list(current_user, limit, cursor)

    @get("/analytics", summary="Earnings by kind and month, subscribers, MRR, churn", responses=problems(401, 403, 503))
    async def analytics(
        self, current_user: AuthUser, analytics: NamedDependency[AnalyticsService], currency: CurrencyParam = None
    ) -> schemas.CreatorAnalytics:
        return await analytics.creator(current_user.id, currency)
