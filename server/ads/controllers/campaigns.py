"""``/ads/campaigns``: an advertiser's campaigns, their edits and reports."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.ads import schemas
from server.ads.services import CampaignService, ReportService
from server.deps import AuthUser
from server.guards import requires_advertiser
from server.openapi import problems
from server.params import Cursor, Limit, PathId, parse_id


class CampaignController(Controller):
    path = "/ads/campaigns"
    tags = ["ads"]

    @post(
        "/",
        status_code=201,
        guards=[requires_advertiser],
        summary="Create a campaign (in review until approved)",
        responses=problems(401, 403, 422),
    )
    async def create(
        self,
        data: JSONBody[schemas.CampaignCreate],
        current_user: AuthUser,
        ad_campaigns: NamedDependency[CampaignService],
    ) -> schemas.Campaign:
        return await ad_campaigns.create(current_user, data)

    @get("/", summary="My campaigns, newest first", responses=problems(401, 422))
    async def mine(
        self,
        current_user: AuthUser,
        ad_campaigns: NamedDependency[CampaignService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.CampaignPage:
        return await ad_campaigns.mine(current_user, limit, cursor)

    @get("/{campaign_id:str}", summary="One of my campaigns", responses=problems(401, 404))
    async def one(
        self, campaign_id: PathId, current_user: AuthUser, ad_campaigns: NamedDependency[CampaignService]
    ) -> schemas.Campaign:
        return await ad_campaigns.get(current_user, parse_id(campaign_id, "no such campaign"))

    @patch(
        "/{campaign_id:str}", summary="Pause, resume, or change budgets and bid", responses=problems(401, 404, 409, 422)
    )
    async def edit(
        self,
        campaign_id: PathId,
        data: JSONBody[schemas.CampaignUpdate],
        current_user: AuthUser,
        ad_campaigns: NamedDependency[CampaignService],
    ) -> schemas.Campaign:
        return await ad_campaigns.update(current_user, parse_id(campaign_id, "no such campaign"), data)

    @get(
        "/{campaign_id:str}/report",
        summary="Impressions, clicks, CTR, spend and eCPM, per day",
        responses=problems(401, 404),
    )
    async def report(
        self, campaign_id: PathId, current_user: AuthUser, ad_reports: NamedDependency[ReportService]
    ) -> schemas.Report:
        return await ad_reports.campaign(current_user, parse_id(campaign_id, "no such campaign"))
