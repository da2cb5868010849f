"""DI providers of the ads domain (services over the app's ``AdsRuntime``)."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from server.ads.runtime import AdsRuntime
from server.ads.schemas import AdSlot
from server.ads.services import CampaignService, ReportService, TrackingService
from server.redis_lane import REDIS_ERRORS


def runtime(state: State) -> AdsRuntime:
    return state["ads"]  # type: ignore[no-any-return]


def _campaigns(state: State) -> CampaignService:
    return CampaignService(runtime(state))


def _tracking(state: State) -> TrackingService:
    return TrackingService(runtime(state))


def _reports(state: State) -> ReportService:
    return ReportService(runtime(state))


log = structlog.get_logger(__name__)

dependencies = {
    "ad_campaigns": Provide(_campaigns, sync_to_thread=False),
    "ad_tracking": Provide(_tracking, sync_to_thread=False),
    "ad_reports": Provide(_reports, sync_to_thread=False),
}


async def page_ads(request: Request[Any, Any, Any], viewer_id: int | None, item_count: int) -> list[AdSlot]:
    """The feed hook: ads to place in a page of ``item_count`` posts served to ``viewer_id``."""
    rt: AdsRuntime = request.app.state["ads"]
    try:
        return await rt.delivery.place(viewer_id, item_count, request.headers)
    except REDIS_ERRORS as exc:  # the hot state unreachable or stalled: this page goes out without ads
        # Nothing was reserved or charged (the hot state's select is one atomic script), so nothing to undo.
        log.warning("ads_skipped_hot_state_unavailable", error=type(exc).__name__)
        return []
