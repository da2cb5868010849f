"""Rows -> wire objects (URLs signed for the viewer when the video is not public)."""

from __future__ import annotations

from typing import Any

import msgspec

from server.social.schemas import Price, author_summary
from server.video import schemas
from server.video.runtime import VideoRuntime

PUBLIC_VISIBILITIES = ("public", "unlisted")


def anonymous_may_see(r: Any) -> bool:
    """Whether the files may be served without a signature (what ``queries.visibility.visible`` says for nobody)."""
    return (
        r["visibility"] in PUBLIC_VISIBILITIES
        and r["price_amount"] is None
        and r["status"] == "ready"
        and r["moderation"] == "approved"
        and not r["a_is_private"]
    )


_RENDITIONS = msgspec.json.Decoder(list[schemas.RenditionView])


def video_view(rt: VideoRuntime, r: Any, viewer: int) -> schemas.Video:
    ready = r["status"] == "ready"
    price = Price(amount=r["price_amount"], currency=r["price_currency"]) if r["price_amount"] is not None else None
    locked = not r["unlocked"]
    thumb = storyboard = None
    # A token opens every file of the video: a viewer who has not bought it gets none, not even the poster's.
    if ready and not locked:
        token, _ = rt.media_token(r["id"], anonymous_may_see(r), viewer)
        if r["thumbnail"]:
            thumb = rt.media_url(r["id"], token, r["thumbnail"])
        storyboard = rt.media_url(r["id"], token, "storyboard.vtt")
    renditions = r["renditions"]
    if isinstance(renditions, str):
        renditions = _RENDITIONS.decode(renditions)
    else:
        renditions = msgspec.convert(renditions or [], list[schemas.RenditionView])
    mine = r["owner"] == viewer
    uploading = mine and r["status"] == "uploading"
    return schemas.Video(
        id=str(r["id"]),
        owner=author_summary(r, "owner"),
        title=r["title"],
        description=r["description"],
        tags=list(r["tags"]),
        visibility=r["visibility"],
        status=r["status"],
        failure_reason=r["failure_reason"],
        duration=r["duration"],
        width=r["width"],
        height=r["height"],
        thumbnail_url=thumb,
        storyboard_url=storyboard,
        renditions=renditions,
        view_count=r["view_count"],
        like_count=r["like_count"],
        liked_by_me=bool(r["liked_by_me"]),
        moderation=r["moderation"],
        post_id=str(r["post"]) if r["post"] is not None else None,
        created_at=r["created_at"],
        published_at=r["published_at"],
        upload_url=rt.upload_url(r["id"]) if uploading else None,
        upload_offset=r["upload_offset"] if uploading else None,
        price=price,
        locked=locked,
    )
