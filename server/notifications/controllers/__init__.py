"""The notifications domain's controllers, one module per resource, for ``server.app`` to wire."""

from server.notifications.controllers.notifications import NotificationController
from server.notifications.controllers.push_tokens import PushTokenController

CONTROLLERS = [NotificationController, PushTokenController]

__all__ = ["CONTROLLERS"]
