"""A ready public or followers-only video rides a feed post (so feeds, comments and likes work on it)."""

from __future__ import annotations

from typing import Any

from server.deps import CurrentUser
from server.errors import Conflict, NotFound
from server.video.queries import reads as read_queries
from server.video.queries import uploads as upload_queries
from server.video.runtime import VideoRuntime

FEED_VISIBILITIES = ("public", "followers")


def post_text(title: str, tags: list[str]) -> str:
    tag_line = " ".join(f"#{t}" for t in tags if t.replace("_", "").isalnum())
    return f"{title}\n\n{tag_line}".strip()[:5000]


async def _row(video_id: int) -> Any:
    return await read_queries.visible_row(0, video_id, staff=True)


async def sync_post(rt: VideoRuntime, video_id: int) -> None:
    """Give the video a post when it should have one (ready, approved, public/followers); remove it otherwise."""
    if rt.social is None:
        return
    from server.social.services.posts import PostService

    row = await _row(video_id)
    if row is None:
        return
    if await upload_queries.owner_suspended(row["owner"]):
        # A suspended owner's posts are hidden with the account (and none can be made for it): a
        # moderator's edit leaves the video's post as it is until the account is restored.
        return
    wanted = row["status"] == "ready" and row["moderation"] == "approved" and row["visibility"] in FEED_VISIBILITIES
    posts = PostService(rt.social)
    if row["post"] is not None:
        current = await upload_queries.live_post_visibility(row["post"])
        if wanted and current == row["visibility"]:
            return
        await _drop(rt, row)
    if not wanted:
        return

    async def attach(post_id: int) -> None:
        if not await upload_queries.link_post(video_id, post_id):  # another sync won the race: this post rolls back
            raise Conflict("the video already has a post")

    try:
        await posts.create_attached(row["owner"], post_text(row["title"], list(row["tags"])), row["visibility"], attach)
    except Conflict:
        return


async def _drop(rt: VideoRuntime, row: Any, by: CurrentUser | None = None) -> None:
    from server.social.services.posts import PostService

    assert rt.social is not None
    await upload_queries.unlink_post(row["id"])
    try:
        if by is not None and by.id != row["owner"]:
            await PostService(rt.social).delete(by.id, by.role, row["post"])
        else:
            await PostService(rt.social).delete(row["owner"], "user", row["post"])
    except NotFound:
        pass


async def remove_post(rt: VideoRuntime, row: Any, by: CurrentUser | None = None) -> None:
    """The video is gone: so is its post (``post.deleted`` reaches the feeds)."""
    if rt.social is not None and row["post"] is not None:
        await _drop(rt, row, by)
