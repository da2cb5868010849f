"""The video domain's controllers, for ``server.app`` to wire."""

from server.video.controllers.media import MediaController
from server.video.controllers.moderation import VideoModerationController
from server.video.controllers.uploads import UploadController
from server.video.controllers.videos import UserVideosController, VideoController

API_CONTROLLERS = [VideoController, UserVideosController, UploadController, VideoModerationController]

__all__ = ["API_CONTROLLERS", "MediaController"]
