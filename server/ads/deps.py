"""DI providers of the ads domain (services over the app's ``AdsRuntime``)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from server.ads.runtime import AdsRuntime
from server.ads.schemas import AdSlot
from server.ads.services import CampaignService, ReportService, TrackingService


def runtime(state: State) -> AdsRuntime:
    return state["ads"]  # type: ignore[no-any-return]


def _campaigns(state: State) -> CampaignService:
    return CampaignService(runtime(state))


def _tracking(state: State) -> TrackingService:
    return TrackingService(runtime(state))


def _reports(state: State) -> ReportService:
    return ReportService(runtime(state))


dependencies = {
    "ad_campaigns": Provide(_campaigns, sync_to_thread=False),
    "ad_tracking": Provide(_tracking, sync_to_thread=False),
    "ad_reports": Provide(_reports, sync_to_thread=False),
}


async def page_ads(request: Request[Any, Any, Any], viewer_id: int | None, item_count: int) -> list[AdSlot]:
    """The feed hook: ads to place in a page of ``item_count`` posts served to ``viewer_id``."""
    rt: AdsRuntime = request.app.state["ads"]
    return await rt.delivery.place(viewer_id, item_count, request.headers)
