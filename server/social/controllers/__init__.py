"""The social domain's controllers, and its DI providers, for ``server.app`` to wire."""

from server.social._deps import dependencies
from server.social._feeds import FeedController, HashtagController, ModerationController, ReportController
from server.social._posts import CommentController, PostController
from server.social._users import MeController, UserController

CONTROLLERS = [
    MeController,
    UserController,
    PostController,
    CommentController,
    FeedController,
    HashtagController,
    ReportController,
    ModerationController,
]

__all__ = ["CONTROLLERS", "dependencies"]
