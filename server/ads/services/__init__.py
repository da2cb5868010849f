"""The ads domain's rules: campaigns and review, tracking of impressions and clicks, reports."""

from server.ads.services.campaigns import CampaignService
from server.ads.services.reports import ReportService
from server.ads.services.tracking import TrackingService

__all__ = ["CampaignService", "ReportService", "TrackingService"]
