"""DI providers of the ads domain (services over the app's ``AdsRuntime``)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from server.ads.runtime import AdsRuntime
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
