"""Admin view of ad revenue."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from server.ads import schemas
from server.ads.services import ReportService
from server.guards import requires_admin
from server.openapi import problems
from server.params import Cursor, Limit


class RevenueController(Controller):
    path = "/ads/revenue"
    tags = ["ads"]
    guards = [requires_admin]

    @get("/", summary="Ad revenue per currency and per campaign (admins)", responses=problems(401, 403, 422))
    async def revenue(
        self, ad_reports: NamedDependency[ReportService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.Revenue:
        return await ad_reports.revenue(limit, cursor)
