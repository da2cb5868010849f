"""The BOLA matrix: for every route with an object id, what each kind of caller gets.

``test_bola_matrix.py`` reads the app's route table; a route with a path parameter that has no entry
here (and is not in ``EXEMPT``) fails the test. To add your route:

1. Pick (or add, in ``test_bola_matrix.World``) the object its id points at: a key of ``TARGETS`` below,
   created by the owner ``olivia``.
2. Add ``"METHOD /api/v1/path/{param}": Case(target, stranger, blocked, follower, owner, body=...)`` with
   the outcome each caller must get on olivia's object: ``OK`` (2xx), ``HIDDEN`` (404: they may not know it
   exists), ``DENIED`` (403 or 404), ``REFUSED`` (any 4xx, e.g. 422 for following oneself), ``ALLOWED``
   (past the access check: neither 403 nor 404; a 503 from an unreachable Stripe counts, never a 500).
   The callers: a stranger, a user olivia blocked, an accepted follower of olivia, and olivia herself.
3. Routes without an object id to check (files, the schema UI) go in ``EXEMPT`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, HIDDEN, DENIED, REFUSED, ALLOWED = "ok", "hidden", "denied", "refused", "allowed"
ACTORS = ("stranger", "blocked", "follower", "owner")

TARGETS = {
    "post:public": "olivia's public post",
    "post:followers": "olivia's followers-only post",
    "post:private": "olivia's private post (mentions nobody)",
    "comment": "olivia's comment on her followers-only post",
    "user": "olivia (public account); the id is her username",
    "user:private": "pia, a private account followed by the follower; the id is her username",
    "user_id": "olivia's user id (admin routes)",
    "session": "olivia's other session",
    "push_token": "olivia's push registration",
    "follow_request": "ria's pending request to olivia (private for this case); the id is ria's username",
    "tag": "a hashtag olivia used publicly",
    "image:followers": "the file of an image on olivia's followers-only post, without a signature",
    "payment": "a tip olivia paid to rita (a fifth user)",
    "subscription": "olivia's subscription to rita's tier",
    "tiers": "olivia's tiers (she is a creator); the id is her username",
    "export": "olivia's data export",
    "campaign": "olivia's ad campaign (she enrolled as an advertiser), in review",
}


@dataclass(frozen=True)
class Case:
    target: str
    stranger: str
    blocked: str
    follower: str
    owner: str
    body: Any = None
    note: str = ""
    files: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def expect(self, actor: str) -> str:
        return str(getattr(self, actor))


# What an ordinary visible-or-not read gives: the follower may see followers-only posts.
_SEE_FOLLOWERS = dict(stranger=HIDDEN, blocked=HIDDEN, follower=OK, owner=OK)
_AUTHOR_ONLY = dict(stranger=HIDDEN, blocked=HIDDEN, follower=DENIED, owner=OK)
_ONLY_OWNER = dict(stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=OK)
_STAFF_ONLY = dict(stranger=DENIED, blocked=DENIED, follower=DENIED, owner=DENIED)
_OTHERS_OK = dict(stranger=OK, blocked=HIDDEN, follower=OK, owner=REFUSED)

MATRIX: dict[str, Case] = {
    "GET /api/v1/posts/{post_id}": Case("post:followers", **_SEE_FOLLOWERS),
    "PATCH /api/v1/posts/{post_id}": Case("post:followers", **_AUTHOR_ONLY, body={"text": "edited"}),
    "DELETE /api/v1/posts/{post_id}": Case("post:followers", **_AUTHOR_ONLY),
    "GET /api/v1/posts/{post_id}/history": Case("post:followers", **_SEE_FOLLOWERS),
    "POST /api/v1/posts/{post_id}/like": Case("post:followers", **_SEE_FOLLOWERS),
    "DELETE /api/v1/posts/{post_id}/like": Case("post:followers", **_SEE_FOLLOWERS),
    "POST /api/v1/posts/{post_id}/bookmark": Case("post:private", **_ONLY_OWNER),
    "DELETE /api/v1/posts/{post_id}/bookmark": Case("post:private", **_ONLY_OWNER),
    "POST /api/v1/posts/{post_id}/repost": Case(
        "post:public", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK, note="a public post may be reposted"
    ),
    "DELETE /api/v1/posts/{post_id}/repost": Case(
        "post:public", stranger=OK, blocked=OK, follower=OK, owner=OK, note="undoing one's own repost: 204 for any id"
    ),
    "GET /api/v1/posts/{post_id}/comments": Case("post:followers", **_SEE_FOLLOWERS),
    "POST /api/v1/posts/{post_id}/comments": Case("post:followers", **_SEE_FOLLOWERS, body={"text": "a comment"}),
    "DELETE /api/v1/comments/{comment_id}": Case("comment", **_AUTHOR_ONLY),
    "POST /api/v1/comments/{comment_id}/like": Case("comment", **_SEE_FOLLOWERS),
    "DELETE /api/v1/comments/{comment_id}/like": Case("comment", **_SEE_FOLLOWERS),
    "POST /api/v1/moderation/posts/{post_id}/remove": Case("post:public", **_STAFF_ONLY, body={"reason": "x"}),
    "GET /api/v1/users/{username}": Case("user", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK),
    "GET /api/v1/users/{username}/posts": Case("user", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK),
    "GET /api/v1/users/{username}/followers": Case(
        "user:private", stranger=DENIED, blocked=HIDDEN, follower=OK, owner=OK
    ),
    "GET /api/v1/users/{username}/following": Case(
        "user:private", stranger=DENIED, blocked=HIDDEN, follower=OK, owner=OK
    ),
    "POST /api/v1/users/{username}/follow": Case("user", **_OTHERS_OK),
    "DELETE /api/v1/users/{username}/follow": Case(
        "user", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK, note="unfollowing oneself is a no-op"
    ),
    "POST /api/v1/users/{username}/block": Case("user", stranger=OK, blocked=HIDDEN, follower=OK, owner=REFUSED),
    "DELETE /api/v1/users/{username}/block": Case(
        "user", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK, note="unblocking oneself is a no-op"
    ),
    "POST /api/v1/users/{username}/mute": Case("user", **_OTHERS_OK),
    "DELETE /api/v1/users/{username}/mute": Case("user", **_OTHERS_OK),
    "POST /api/v1/notifications/subscriptions/{username}": Case("user", **_OTHERS_OK),
    "DELETE /api/v1/notifications/subscriptions/{username}": Case(
        "user", stranger=OK, blocked=OK, follower=OK, owner=OK, note="unsubscribing is always harmless"
    ),
    "POST /api/v1/users/me/follow-requests/{username}/accept": Case("follow_request", **_ONLY_OWNER),
    "POST /api/v1/users/me/follow-requests/{username}/reject": Case("follow_request", **_ONLY_OWNER),
    "DELETE /api/v1/push-tokens/{token_id}": Case("push_token", **_ONLY_OWNER),
    "DELETE /api/v1/auth/sessions/{session_id}": Case("session", **_ONLY_OWNER),
    "GET /api/v1/admin/users/{user_id}": Case("user_id", **_STAFF_ONLY),
    "PUT /api/v1/admin/users/{user_id}/role": Case("user_id", **_STAFF_ONLY, body={"role": "moderator"}),
    "POST /api/v1/admin/users/{user_id}/suspend": Case("user_id", **_STAFF_ONLY, body={"reason": "x"}),
    "POST /api/v1/admin/users/{user_id}/unsuspend": Case("user_id", **_STAFF_ONLY),
    "GET /api/v1/hashtags/{tag}/posts": Case("tag", stranger=OK, blocked=OK, follower=OK, owner=OK),
    "GET /api/v1/payments/{payment_id}": Case("payment", **_ONLY_OWNER),
    "POST /api/v1/payments/{payment_id}/refund": Case(
        "payment", stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=DENIED, body={}, note="recipient or admin"
    ),
    "GET /api/v1/subscriptions/{sub_id}": Case("subscription", **_ONLY_OWNER),
    "PATCH /api/v1/subscriptions/{sub_id}": Case(
        "subscription",
        stranger=HIDDEN,
        blocked=HIDDEN,
        follower=HIDDEN,
        owner=REFUSED,
        body={"tier_id": "1"},
        note="the owner passes the ownership check and is refused for the unknown tier",
    ),
    "DELETE /api/v1/subscriptions/{sub_id}": Case(
        "subscription", stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=ALLOWED
    ),
    "GET /api/v1/users/{username}/tiers": Case("tiers", stranger=OK, blocked=ALLOWED, follower=OK, owner=OK),
    "GET /api/v1/users/me/export/{export_id}": Case("export", **_ONLY_OWNER),
    "GET /api/v1/exports/{export_id}/download": Case(
        "export",
        **_STAFF_ONLY,
        query={"expires": "9999999999", "signature": "forged"},
        note="only the signed link of the notification opens it",
    ),
    "GET /api/v1/ads/campaigns/{campaign_id}": Case("campaign", **_ONLY_OWNER),
    "PATCH /api/v1/ads/campaigns/{campaign_id}": Case(
        "campaign", stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=ALLOWED, body={"bid_cpm": 2500}
    ),
    "GET /api/v1/ads/campaigns/{campaign_id}/report": Case("campaign", **_ONLY_OWNER),
    "POST /api/v1/ads/campaigns/{campaign_id}/approve": Case("campaign", **_STAFF_ONLY),
    "POST /api/v1/ads/campaigns/{campaign_id}/reject": Case("campaign", **_STAFF_ONLY, body={"reason": "no"}),
    "GET /media/images/{name}": Case("image:followers", stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=HIDDEN),
    "GET /api/v1/users/{username}/videos": Case("user", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK),
}

# Routes that landed on main before their matrix entries: their owners turn each into a ``Case`` (the
# coverage test accepts these, and fails once a listed route is gone). Keep this list empty.
PENDING = {
    "GET /api/v1/live/{stream_id}": "live (landed 05:30)",
    "PATCH /api/v1/live/{stream_id}": "live",
    "GET /api/v1/live/{stream_id}/chat": "live",
    "POST /api/v1/live/{stream_id}/bans": "live",
    "DELETE /api/v1/live/{stream_id}/bans/{username}": "live",
    "DELETE /api/v1/live/{stream_id}/chat/{message_id}": "live",
    "POST /api/v1/live/{stream_id}/heartbeat": "live",
    "POST /api/v1/live/{stream_id}/key": "live",
    "DELETE /api/v1/uploads/{video_id}": "video (landed 05:40; ownership tested in tests/integration/video)",
    "DELETE /api/v1/videos/{video_id}": "video",
    "DELETE /api/v1/videos/{video_id}/like": "video",
    "GET /api/v1/videos/{video_id}": "video",
    "GET /api/v1/videos/{video_id}/analytics": "video",
    "GET /api/v1/videos/{video_id}/playback": "video",
    "GET /api/v1/videos/{video_id}/related": "video",
    "GET /media/videos/{video_id}/{token}/{name}": "video",
    "PATCH /api/v1/uploads/{video_id}": "video",
    "PATCH /api/v1/videos/{video_id}": "video",
    "POST /api/v1/admin/videos/{video_id}/approve": "video",
    "POST /api/v1/admin/videos/{video_id}/reject": "video",
    "POST /api/v1/uploads/{video_id}": "video",
    "POST /api/v1/videos/{video_id}/like": "video",
    "POST /api/v1/videos/{video_id}/report": "video",
    "POST /api/v1/videos/{video_id}/views": "video",
}

EXEMPT = {
    "GET /app/{file_path}": "the demo web app's static files",
    "POST /api/v1/live/hooks/{event}": "media server callbacks, authenticated by LIVE_HOOK_SECRET",
    "GET /api/v1/ads/click/{token}": "a signed capability, not an object id: forged is a 400 for anyone",
    "GET /media/avatars/{file_path}": "avatars are public pictures of public profiles",
    "GET /schema/{path}": "the OpenAPI UI's static files",
}
