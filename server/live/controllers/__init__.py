"""The live domain's controllers, for ``server.app`` to wire."""

from server.live.controllers.hooks import HookController
from server.live.controllers.moderation import ModerationController
from server.live.controllers.streams import StreamController

CONTROLLERS = [StreamController, ModerationController, HookController]

__all__ = ["CONTROLLERS"]
