"""Posts as a viewer sees them: rows that passed the visibility rule, turned into wire objects."""

from __future__ import annotations

from typing import Any

import msgspec

from server.social import queries, schemas


def user_summary(row: Any, prefix: str = "") -> schemas.UserSummary:
    return schemas.UserSummary(
        id=str(row[f"{prefix}id"]),
        username=row[f"{prefix}username"],
        display_name=row[f"{prefix}display_name"],
        avatar_url=row[f"{prefix}avatar_url"],
        followers_count=row[f"{prefix}followers_count"],
        following_count=row[f"{prefix}following_count"],
        posts_count=row[f"{prefix}posts_count"],
        is_private=row[f"{prefix}is_private"],
    )


_MEDIA = msgspec.json.Decoder(list[schemas.Media])
_VIDEO = msgspec.json.Decoder(schemas.VideoAttachment)


async def visible_posts(
    viewer: int, ids: list[int], *, feed: bool = False, signer: Any = None
) -> dict[int, schemas.Post]:
    """The posts among ``ids`` that ``viewer`` may see (and, for feeds, has not muted), by id."""
    if not ids:
        return {}
    rows = await queries.visible_post_rows(viewer, ids, feed=feed)
    originals = {r["repost_of"] for r in rows if r["repost_of"] is not None}
    inner = await visible_posts(viewer, list(originals), signer=signer) if originals else {}
    mention_ids = {m for r in rows for m in r["mentions"]}
    names = await queries.usernames(list(mention_ids)) if mention_ids else {}
    out: dict[int, schemas.Post] = {}
    for r in rows:
        original = None
        if r["repost_of"] is not None:
            original = inner.get(r["repost_of"])
            if original is None:  # the original is gone or hidden: so is the repost
                continue
        media = r["media"]  # attached images come in the same row (NULL for most posts): no second query
        items = _MEDIA.decode(media) if media is not None else []
        if items and not (r["visibility"] == "public" and not r["a_is_private"]):
            # Not public: only signed, expiring URLs open these files (see server.social.media).
            items = [msgspec.structs.replace(m, url=signer.url(m.url) if signer else m.url) for m in items]
        out[r["id"]] = post_view(r, names, original, items)
        if r["video"] is not None:  # a video post (server.video publishes one per ready public video)
            out[r["id"]].video = _VIDEO.decode(r["video"])
    return out


def post_view(
    r: Any, names: dict[int, str], original: schemas.Post | None = None, media: list[schemas.Media] | None = None
) -> schemas.Post:
    price = schemas.Price(amount=r["price_amount"], currency=r["price_currency"]) if r["price_amount"] else None
    if price is not None and not r["unlocked"]:
        # A paid post the viewer has not bought: a teaser (author, price, counts), not its content.
        return locked(_post(r, names, original, []), price)
    return msgspec.structs.replace(_post(r, names, original, media or []), price=price)


def locked(post: schemas.Post, price: schemas.Price) -> schemas.Post:
    """``post`` as someone who has not bought it sees it."""
    return msgspec.structs.replace(post, text="", media=[], mentions=[], price=price, locked=True)


def _post(r: Any, names: dict[int, str], original: schemas.Post | None, media: list[schemas.Media]) -> schemas.Post:
    return schemas.Post(
        id=str(r["id"]),
        author=user_summary(r, "a_"),
        text=r["text"],
        visibility=r["visibility"],
        hashtags=list(r["hashtags"]),
        mentions=[schemas.Mention(id=str(m), username=names[m]) for m in r["mentions"] if m in names],
        created_at=r["created_at"],
        edited_at=r["edited_at"],
        like_count=r["like_count"],
        comment_count=r["comment_count"],
        repost_count=r["repost_count"],
        liked_by_me=r["liked_by_me"],
        reposted_by_me=r["reposted_by_me"],
        bookmarked_by_me=r["bookmarked_by_me"],
        media=media,
        repost_of=original,
    )


async def in_order(viewer: int, ids: list[int], *, feed: bool = True, signer: Any = None) -> list[schemas.Post]:
    found = await visible_posts(viewer, ids, feed=feed, signer=signer)
    return [found[i] for i in ids if i in found]
