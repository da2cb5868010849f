"""The ads HTTP surface: one controller per resource."""

from server.ads.controllers.campaigns import CampaignController
from server.ads.controllers.revenue import RevenueController
from server.ads.controllers.review import ReviewController
from server.ads.controllers.tracking import TrackingController

CONTROLLERS = [CampaignController, ReviewController, TrackingController, RevenueController]

__all__ = ["CONTROLLERS"]
