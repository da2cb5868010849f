"""Who may see what (one SQL predicate used by every read) and rows -> wire objects."""

from __future__ import annotations

from typing import Any

import msgspec

from server.payments.queries import bought, subscriber_access
from server.social import schemas, sql

USER_COLS = "id, username, display_name, avatar_url, followers_count, following_count, posts_count, is_private"

# $1 is the viewer id (0 for anonymous). ``p`` is the post, ``a`` its author.
BLOCKED = (
    "EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker = $1 AND b.blocked = {u}) OR (b.blocker = {u} AND b.blocked = $1))"
)
VISIBLE = (
    "p.deleted_at IS NULL AND a.suspended_at IS NULL AND (p.author = $1 OR (NOT "
    + BLOCKED.format(u="p.author")
    + " AND ((p.visibility = 'private' AND $1 = ANY(p.mentions))"
    " OR (p.visibility = 'public' AND NOT a.is_private)"
    # Subscribers-only: an active (or in-grace) subscription to the author, kept by payments' webhooks.
    " OR (p.visibility = 'subscribers' AND " + subscriber_access("p.author") + ")"
    " OR (p.visibility IN ('public', 'followers') AND EXISTS "
    "(SELECT 1 FROM follows f WHERE f.follower = $1 AND f.followee = p.author)))))"
)
NOT_MUTED = "NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter = $1 AND m.muted = p.author)"


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


_POST_SELECT = f"""
SELECT p.id, p.text, p.visibility, p.hashtags, p.mentions, p.repost_of, p.created_at, p.edited_at,
       p.like_count, p.comment_count, p.repost_count, p.price_amount, p.price_currency,
       (p.price_amount IS NULL OR p.author = $1 OR {bought("post_id", "p.id")}) AS unlocked,
       {", ".join(f"a.{c} AS a_{c}" for c in USER_COLS.split(", "))},
       EXISTS (SELECT 1 FROM post_likes l WHERE l.post = p.id AND l."user" = $1) AS liked_by_me,
       EXISTS (SELECT 1 FROM bookmarks k WHERE k.post = p.id AND k."user" = $1) AS bookmarked_by_me,
       EXISTS (SELECT 1 FROM posts r WHERE r.author = $1 AND r.repost_of = p.id AND r.deleted_at IS NULL)
         AS reposted_by_me,
       (SELECT json_agg(json_build_object('id', m.id::text, 'url', m.url, 'width', m.width, 'height', m.height)
                        ORDER BY m.id)
          FROM post_media m WHERE m.post = p.id) AS media,
       (SELECT json_build_object('id', v.id::text, 'title', v.title, 'duration', v.duration, 'width', v.width,
                                 'height', v.height)
          FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video
FROM posts p JOIN users a ON a.id = p.author
"""
_MEDIA = msgspec.json.Decoder(list[schemas.Media])
_VIDEO = msgspec.json.Decoder(schemas.VideoAttachment)


async def visible_posts(
    viewer: int, ids: list[int], *, feed: bool = False, signer: Any = None
) -> dict[int, schemas.Post]:
    """The posts among ``ids`` that ``viewer`` may see (and, for feeds, has not muted), by id."""
    if not ids:
        return {}
    where = VISIBLE + (" AND " + NOT_MUTED if feed else "")
    rows = await sql.fetch(_POST_SELECT + f" WHERE p.id = ANY($2) AND {where}", viewer, ids)
    originals = {r["repost_of"] for r in rows if r["repost_of"] is not None}
    inner = await visible_posts(viewer, list(originals), signer=signer) if originals else {}
    mention_ids = {m for r in rows for m in r["mentions"]}
    names = {}
    if mention_ids:
        found = await sql.fetch("SELECT id, username FROM users WHERE id = ANY($1)", list(mention_ids))
        names = {r["id"]: r["username"] for r in found}
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


async def who_can_see(post_id: int, user_ids: list[int] | tuple[int, ...]) -> list[int]:
    """The users among ``user_ids`` who may see post ``post_id`` (the same rule as every read)."""
    if not user_ids:
        return []
    rule = VISIBLE.replace("$1", "v.id")
    rows = await sql.fetch(
        "SELECT v.id FROM unnest($1::bigint[]) AS v(id) JOIN posts p ON p.id = $2 JOIN users a ON a.id = p.author "
        f"WHERE {rule}",
        list(user_ids),
        post_id,
    )
    seen = {r["id"] for r in rows}
    return [u for u in user_ids if u in seen]


async def in_order(viewer: int, ids: list[int], *, feed: bool = True, signer: Any = None) -> list[schemas.Post]:
    found = await visible_posts(viewer, ids, feed=feed, signer=signer)
    return [found[i] for i in ids if i in found]


async def is_blocked_either_way(a: int, b: int) -> bool:
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM blocks WHERE (blocker = $1 AND blocked = $2) "
            "OR (blocker = $2 AND blocked = $1))",
            a,
            b,
        )
    )


async def block_relations(user_id: int) -> list[int]:
    """Everyone in a block relation with ``user_id``, either way (the gateway hides their events from them)."""
    rows = await sql.fetch(
        "SELECT blocked AS other FROM blocks WHERE blocker = $1 UNION SELECT blocker FROM blocks WHERE blocked = $1",
        user_id,
    )
    return [r["other"] for r in rows]
