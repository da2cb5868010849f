"""The social domain's controllers, one module per resource, for ``server.app`` to wire."""

from server.social.controllers.comments import CommentController
from server.social.controllers.feeds import FeedController, HashtagController
from server.social.controllers.moderation import ModerationController, ReportController
from server.social.controllers.posts import PostController
from server.social.controllers.users import MeController, UserController

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

__all__ = ["CONTROLLERS"]
