"""Campaign review for moderators and admins: the queue, approve, reject."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.ads import schemas
from server.ads.services import CampaignService
from server.deps import AuthUser
from server.guards import requires_moderator
from server.openapi import problems
from server.params import Cursor, Limit, PathId, parse_id


class ReviewController(Controller):
    path = "/ads"
    tags = ["ads"]
    guards = [requires_moderator]

    @get("/review", summary="Campaigns waiting for review, oldest first", responses=problems(401, 403, 422))
    async def queue(
        self, ad_campaigns: NamedDependency[CampaignService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.CampaignPage:
        return await ad_campaigns.review_queue(limit, cursor)

    @post(
        "/campaigns/{campaign_id:str}/approve",
        status_code=200,
        summary="Approve: the campaign goes live",
        responses=problems(401, 403, 404, 409),
    )
    async def approve(
        self, campaign_id: PathId, current_user: AuthUser, ad_campaigns: NamedDependency[CampaignService]
    ) -> schemas.Campaign:
        return await ad_campaigns.review(parse_id(campaign_id, "no such campaign"), current_user, approve=True)

    @post(
        "/campaigns/{campaign_id:str}/reject",
        status_code=200,
        summary="Reject, with a reason for the advertiser",
        responses=problems(401, 403, 404, 409, 422),
    )
    async def reject(
        self,
        campaign_id: PathId,
        current_user: AuthUser,
        ad_campaigns: NamedDependency[CampaignService],
        data: JSONBody[schemas.Rejection | None] = None,
    ) -> schemas.Campaign:
        note = data.reason if data is not None else ""
        return await ad_campaigns.review(
            parse_id(campaign_id, "no such campaign"), current_user, approve=False, note=note
        )
