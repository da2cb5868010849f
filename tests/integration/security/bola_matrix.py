"""The BOLA matrix: for every route with an object id, what each kind of caller gets on each kind of object.

``test_bola_matrix.py`` reads the app's route table; a route with a path parameter that has no entry
here (and is not in ``EXEMPT``) fails the test. To add your route:

1. Pick (or add, in ``test_bola_matrix.World``) the objects its id points at: keys of ``TARGETS`` below,
   created by the owner ``olivia``.
2. Add ``"METHOD /path/{param}": Case(target, stranger, blocked, follower, owner, body=...)`` (or a tuple
   of cases, one per object kind or visibility) with the outcome each caller must get on olivia's object:
   ``OK`` (2xx), ``HIDDEN`` (404: they may not know it exists), ``DENIED`` (403 or 404), ``REFUSED`` (any
   4xx, e.g. 422 for following oneself, 409 for a video not ready), ``ALLOWED`` (past the access check:
   neither 403 nor 404; a 503 from an unreachable Stripe counts, never a 500).
   The callers: a stranger, a user olivia blocked, an accepted follower of olivia, olivia herself,
   (where a case sets ``subscriber``) a fan with an active subscription to olivia who does not follow her,
   and a site moderator, who gets what the stranger gets unless the case sets ``moderator``: staff
   powers (reading every video and room, editing and deleting videos, room bans, approvals) are listed
   where they apply, and nowhere else (payments, sessions, exports, push tokens stay the owner's).
3. Other path parameters come from ``params`` (``str.format`` over what the world made with the object:
   ``{signed}``, ``{foreign}``, ``{message_id}``…), else they are the object's id.
4. Routes without an object id to check (files, the schema UI) go in ``EXEMPT`` with the reason.

The matrix size (route x object x caller checks) is ``size()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, HIDDEN, DENIED, REFUSED, ALLOWED = "ok", "hidden", "denied", "refused", "allowed"
ACTORS = ("stranger", "blocked", "follower", "owner", "subscriber", "moderator")

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
    # Videos: olivia enrolled as a creator; ready (renditions stored) unless the name says otherwise.
    "video:public": "olivia's ready public video",
    "video:unlisted": "olivia's ready unlisted video (not in lists, readable by id)",
    "video:followers": "olivia's ready followers-only video",
    "video:subscribers": "olivia's ready subscribers-only video",
    "video:private": "olivia's ready private video",
    "video:uploading": "olivia's public video whose bytes are not sent yet (tus upload not created)",
    "video:upload": "olivia's public video with its tus upload created (Upload-Length 64), no byte sent",
    "video:pending": "olivia's ready public video waiting in the approval queue",
    "video:public@private": "a ready public video of olivia after she made her account private",
    "video:public@suspended": "a ready public video of olivia after she was suspended",
    # Live streams: olivia enrolled as a creator; a chat line from fran in each.
    "stream:idle:public": "olivia's public stream, not started",
    "stream:live:public": "olivia's public stream, on air",
    "stream:ended:public": "olivia's public stream, over",
    "stream:idle:followers": "olivia's followers-only stream, not started",
    "stream:live:followers": "olivia's followers-only stream, on air",
    "stream:live:private": "olivia's private stream, on air",
    "stream:ended:private": "olivia's private stream, over",
    "stream:live:public@private": "olivia's public stream on air, after she made her account private",
    "stream:live:public@suspended": "olivia's public stream on air, after she was suspended",
}


@dataclass(frozen=True)
class Case:
    target: str
    stranger: str
    blocked: str
    follower: str
    owner: str
    subscriber: str | None = None
    moderator: str | None = None
    """A site moderator (mona). Unset: what the stranger gets. Staff powers reach only moderation routes."""
    body: Any = None
    note: str = ""
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)

    def actors(self) -> tuple[str, ...]:
        return tuple(a for a in ACTORS if a == "moderator" or getattr(self, a) is not None)

    def expect(self, actor: str) -> str:
        if actor == "moderator" and self.moderator is None:
            return self.stranger
        return str(getattr(self, actor))


def cases(entry: Case | tuple[Case, ...]) -> tuple[Case, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


# What an ordinary visible-or-not read gives: the follower may see followers-only posts.
_SEE_FOLLOWERS = dict(stranger=HIDDEN, blocked=HIDDEN, follower=OK, owner=OK)
_AUTHOR_ONLY = dict(stranger=HIDDEN, blocked=HIDDEN, follower=DENIED, owner=OK)
_ONLY_OWNER = dict(stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=OK)
_STAFF_ONLY = dict(stranger=DENIED, blocked=DENIED, follower=DENIED, owner=DENIED)
_OTHERS_OK = dict(stranger=OK, blocked=HIDDEN, follower=OK, owner=REFUSED)
_SEE_PUBLIC = dict(stranger=OK, blocked=HIDDEN, follower=OK, owner=OK)
# Visible to the owner only, who is refused for the object's state (a video not ready, an upload done).
_ONLY_OWNER_REFUSED = dict(stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=REFUSED)
# The owner's own object after she was suspended: hidden from everyone; her own token is revoked (401).
_SUSPENDED = dict(stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=REFUSED)
# Owner-only actions: whoever may see the object is refused (403), the others do not learn it exists.
_OWNER_ACTS_PUBLIC = dict(stranger=DENIED, blocked=HIDDEN, follower=DENIED, owner=OK)
_OWNER_ACTS_FOLLOWERS = dict(stranger=HIDDEN, blocked=HIDDEN, follower=DENIED, owner=OK)
_NOT_LIVE = dict(stranger=REFUSED, blocked=HIDDEN, follower=REFUSED, owner=REFUSED)
# Capability URLs (media files): the caller does not matter, the token does.
_EVERYONE = dict(stranger=OK, blocked=OK, follower=OK, owner=OK)
_NOBODY = dict(stranger=DENIED, blocked=DENIED, follower=DENIED, owner=DENIED)

_TUS = {"Tus-Resumable": "1.0.0"}
_TUS_PATCH = {**_TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
_BEAT = {"session_id": "bola-session-1", "position": 1.0, "watched": 1.0}
_HLS_BEAT = {"session_id": "bola-player-1"}
_PLAYLIST = {"token": "p", "name": "master.m3u8"}


def _video_reads(staff: bool = False, **kw: Any) -> tuple[Case, ...]:
    """Reading (or liking, watching, reporting) a ready video: whoever may see it, per visibility.

    ``staff``: a moderator sees (and plays) every video, to review it; otherwise (likes, reports) a
    moderator gets what a stranger gets."""
    mod = {"moderator": OK} if staff else {}
    return (
        Case("video:public", **_SEE_PUBLIC, **mod, **kw),
        Case("video:unlisted", **_SEE_PUBLIC, **mod, **kw),
        Case("video:followers", **_SEE_FOLLOWERS, **mod, **kw),
        Case("video:subscribers", **_ONLY_OWNER, subscriber=OK, **mod, **kw),
        Case("video:private", **_ONLY_OWNER, **mod, **kw),
        Case("video:public@private", **_SEE_FOLLOWERS, **mod, **kw),
        Case("video:public@suspended", **_SUSPENDED, **mod, **kw),
    )


def _video_owner_acts(moderator: str = OK, **kw: Any) -> tuple[Case, ...]:
    """Editing, deleting (the owner and moderators), analytics (the owner only: ``moderator=DENIED``)."""
    return (
        Case("video:public", **_OWNER_ACTS_PUBLIC, moderator=moderator, **kw),
        Case("video:followers", **_OWNER_ACTS_FOLLOWERS, moderator=moderator, **kw),
        Case("video:subscribers", **_ONLY_OWNER, subscriber=DENIED, moderator=moderator, **kw),
        Case("video:private", **_ONLY_OWNER, moderator=moderator, **kw),
        Case("video:uploading", **_ONLY_OWNER, moderator=moderator, **kw),
        Case("video:public@suspended", **_SUSPENDED, moderator=moderator, **kw),
    )


def _stream_reads(**kw: Any) -> tuple[Case, ...]:
    """A stream and its chat: whoever may see it, in every state (moderators see every room)."""
    return (
        Case("stream:idle:public", **_SEE_PUBLIC, moderator=OK, **kw),
        Case("stream:live:public", **_SEE_PUBLIC, moderator=OK, **kw),
        Case("stream:ended:public", **_SEE_PUBLIC, moderator=OK, **kw),
        Case("stream:idle:followers", **_SEE_FOLLOWERS, moderator=OK, **kw),
        Case("stream:live:followers", **_SEE_FOLLOWERS, moderator=OK, **kw),
        Case("stream:live:private", **_ONLY_OWNER, moderator=OK, **kw),
        Case("stream:ended:private", **_ONLY_OWNER, moderator=OK, **kw),
        Case("stream:live:public@private", **_SEE_FOLLOWERS, moderator=OK, **kw),
        Case("stream:live:public@suspended", **_SUSPENDED, moderator=OK, **kw),
    )


def _stream_owner_acts(moderator: str, **kw: Any) -> tuple[Case, ...]:
    """The owner's controls: title and key (the owner only: ``moderator=DENIED``), bans and chat deletion
    (moderators too: ``moderator=OK``)."""
    return (
        Case("stream:idle:public", **_OWNER_ACTS_PUBLIC, moderator=moderator, **kw),
        Case("stream:live:public", **_OWNER_ACTS_PUBLIC, moderator=moderator, **kw),
        Case("stream:ended:public", **_OWNER_ACTS_PUBLIC, moderator=moderator, **kw),
        Case("stream:live:followers", **_OWNER_ACTS_FOLLOWERS, moderator=moderator, **kw),
        Case("stream:live:private", **_ONLY_OWNER, moderator=moderator, **kw),
        Case("stream:live:public@suspended", **_SUSPENDED, moderator=moderator, **kw),
    )


MATRIX: dict[str, Case | tuple[Case, ...]] = {
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
    "POST /api/v1/moderation/posts/{post_id}/remove": Case(
        "post:public", **_STAFF_ONLY, moderator=OK, body={"reason": "x"}
    ),
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
    "GET /api/v1/ads/campaigns/{campaign_id}": Case("campaign", **_ONLY_OWNER, moderator=OK, note="staff review it"),
    "PATCH /api/v1/ads/campaigns/{campaign_id}": Case(
        "campaign", stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=ALLOWED, body={"bid_cpm": 2500}
    ),
    "GET /api/v1/ads/campaigns/{campaign_id}/report": Case("campaign", **_ONLY_OWNER, moderator=OK),
    "POST /api/v1/ads/campaigns/{campaign_id}/approve": Case("campaign", **_STAFF_ONLY, moderator=OK),
    "POST /api/v1/ads/campaigns/{campaign_id}/reject": Case(
        "campaign", **_STAFF_ONLY, moderator=OK, body={"reason": "no"}
    ),
    "GET /media/images/{name}": Case("image:followers", stranger=HIDDEN, blocked=HIDDEN, follower=HIDDEN, owner=HIDDEN),
    "GET /api/v1/users/{username}/videos": Case("user", stranger=OK, blocked=HIDDEN, follower=OK, owner=OK),
    # -- videos (contract part 2, Video) ----------------------------------------------------------
    "GET /api/v1/videos/{video_id}": (*_video_reads(staff=True), Case("video:uploading", **_ONLY_OWNER, moderator=OK)),
    "PATCH /api/v1/videos/{video_id}": _video_owner_acts(body={"title": "edited"}),
    "DELETE /api/v1/videos/{video_id}": _video_owner_acts(),
    "GET /api/v1/videos/{video_id}/playback": (
        *_video_reads(staff=True),
        Case("video:uploading", **_ONLY_OWNER_REFUSED, moderator=REFUSED, note="409 not_ready for who may see it"),
    ),
    "POST /api/v1/videos/{video_id}/like": (
        *_video_reads(),
        Case("video:uploading", **_ONLY_OWNER_REFUSED, note="only a ready video can be liked"),
    ),
    "DELETE /api/v1/videos/{video_id}/like": _video_reads(),
    "POST /api/v1/videos/{video_id}/views": _video_reads(body=_BEAT),
    "GET /api/v1/videos/{video_id}/analytics": _video_owner_acts(moderator=DENIED),
    "GET /api/v1/videos/{video_id}/related": _video_reads(),
    "POST /api/v1/videos/{video_id}/report": _video_reads(body={"reason": "spam"}),
    "POST /api/v1/admin/videos/{video_id}/approve": (
        Case("video:pending", **_STAFF_ONLY, moderator=OK),
        Case("video:private", **_STAFF_ONLY, moderator=REFUSED, note="409: already approved"),
    ),
    "POST /api/v1/admin/videos/{video_id}/reject": (
        Case("video:pending", **_STAFF_ONLY, moderator=OK, body={"reason": "no"}),
        Case("video:private", **_STAFF_ONLY, moderator=REFUSED, body={"reason": "no"}, note="409: already approved"),
    ),
    # tus: someone else's upload is not found, whatever the video's visibility.
    "POST /api/v1/uploads/{video_id}": (
        Case("video:uploading", **_ONLY_OWNER, headers={**_TUS, "Upload-Length": "64"}),
        Case(
            "video:public",
            **_ONLY_OWNER_REFUSED,
            headers={**_TUS, "Upload-Length": "64"},
            note="the owner: 409, its upload is done",
        ),
    ),
    "PATCH /api/v1/uploads/{video_id}": (
        Case("video:upload", **_ONLY_OWNER, headers=_TUS_PATCH, content=b"x" * 16),
        Case("video:public", **_ONLY_OWNER_REFUSED, headers=_TUS_PATCH, content=b"x" * 16),
    ),
    "DELETE /api/v1/uploads/{video_id}": (
        Case("video:upload", **_ONLY_OWNER, headers=_TUS),
        Case("video:public", **_ONLY_OWNER_REFUSED, headers=_TUS, note="a ready video is deleted, not terminated"),
    ),
    # Media files: the path token is a capability (no caller identity): `p` opens only what anyone may
    # watch, a signature only the video it was made for, while the viewer it was made for (here the owner)
    # may watch it.
    "GET /media/videos/{video_id}/{token}/{name}": (
        Case("video:public", **_EVERYONE, params=_PLAYLIST, note="public: `p` opens it for anyone"),
        Case("video:followers", **_NOBODY, params=_PLAYLIST),
        Case("video:subscribers", **_NOBODY, subscriber=DENIED, params=_PLAYLIST),
        Case("video:private", **_NOBODY, params=_PLAYLIST),
        Case("video:public@private", **_NOBODY, params=_PLAYLIST),
        Case("video:public@suspended", **_NOBODY, params=_PLAYLIST),
        Case("video:private", **_NOBODY, params={**_PLAYLIST, "token": "{foreign}"}, note="another video's signature"),
        Case("video:private", **_EVERYONE, params={**_PLAYLIST, "token": "{signed}"}, note="its own signature"),
    ),
    # -- live streams (contract part 2, Live) ------------------------------------------------------
    "GET /api/v1/live/{stream_id}": _stream_reads(),
    "GET /api/v1/live/{stream_id}/chat": _stream_reads(),
    "PATCH /api/v1/live/{stream_id}": _stream_owner_acts(DENIED, body={"title": "renamed"}),
    "POST /api/v1/live/{stream_id}/key": _stream_owner_acts(DENIED),
    "POST /api/v1/live/{stream_id}/bans": _stream_owner_acts(OK, body={"username": "sam", "seconds": 60}),
    "DELETE /api/v1/live/{stream_id}/bans/{username}": _stream_owner_acts(OK, params={"username": "sam"}),
    "DELETE /api/v1/live/{stream_id}/chat/{message_id}": _stream_owner_acts(OK, params={"message_id": "{message_id}"}),
    "POST /api/v1/live/{stream_id}/heartbeat": (
        Case("stream:live:public", **_SEE_PUBLIC, moderator=OK, body=_HLS_BEAT),
        Case("stream:idle:public", **_NOT_LIVE, body=_HLS_BEAT, note="409: not live"),
        Case("stream:ended:public", **_NOT_LIVE, body=_HLS_BEAT),
        Case("stream:live:followers", **_SEE_FOLLOWERS, moderator=OK, body=_HLS_BEAT),
        Case("stream:live:private", **_ONLY_OWNER, moderator=OK, body=_HLS_BEAT),
        Case("stream:live:public@private", **_SEE_FOLLOWERS, moderator=OK, body=_HLS_BEAT),
        Case("stream:live:public@suspended", **_SUSPENDED, moderator=OK, body=_HLS_BEAT),
    ),
}


def size() -> int:
    """Route x object x caller checks in the matrix."""
    return sum(len(c.actors()) for entry in MATRIX.values() for c in cases(entry))


EXEMPT = {
    "GET /app/{file_path}": "the demo web app's static files",
    "POST /api/v1/live/hooks/{event}": "media server callbacks, authenticated by LIVE_HOOK_SECRET",
    "GET /api/v1/ads/click/{token}": "a signed capability, not an object id: forged is a 400 for anyone",
    "GET /media/avatars/{file_path}": "avatars are public pictures of public profiles",
    "GET /schema/{path}": "the OpenAPI UI's static files",
}
