"""Platform payment analytics, for admins."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from server.guards import requires_admin
from server.openapi import problems
from server.payments import schemas
from server.payments.controllers.creators import CurrencyParam
from server.payments.services.analytics import AnalyticsService


class AdminPaymentsController(Controller):
    path = "/admin/payments"
    tags = ["admin"]
    guards = [requires_admin]

    @get("/analytics", summary="GMV, platform revenue, MRR, ARR, churn", responses=problems(401, 403, 503))
    async def analytics(
        self, analytics: NamedDependency[AnalyticsService], currency: CurrencyParam = None
    ) -> schemas.PlatformAnalytics:
        return await analytics.platform(currency)
