"""Posts as a viewer sees them: rows that passed the visibility rule, turned into wire objects."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any, cast

import msgspec

from server import db
from server.social import schemas
from server.social.queries import post_views


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


class Content(msgspec.Struct, array_like=True):
    """A post's viewer-independent fields, as ``PostContent`` keeps them (msgpack-encoded)."""

    text: str
    hashtags: list[str]
    mentions: list[int]
    created_at: datetime
    edited_at: datetime | None
    like_count: int
    comment_count: int
    repost_count: int
    price_amount: int | None
    price_currency: str | None
    media: str | None
    """``post_media`` rows as JSON (URLs unsigned: signing depends on who reads, and expires)."""
    video: str | None


_CONTENT_ENCODER = msgspec.msgpack.Encoder()
_CONTENT_DECODER = msgspec.msgpack.Decoder(Content)


class PostContent:
    """An in-process LRU of posts' viewer-independent content, as encoded bytes, keyed by row version.

    No invalidation to miss: an entry is found only under the exact ``(xmin, video xmin)`` the viewer
    query just read, and any change to a post (edit, delete, like/comment/repost counter, moderation,
    video) writes a new row version, so the next read misses and loads the new content. That makes a
    process-local cache exact on any number of processes, with or without Redis. Reads inside a
    transaction are not stored (a later write in the same transaction keeps the same ``xmin``).
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[str, str | None, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, post_id: int, ver: str, video_ver: str | None) -> Content | None:
        entry = self._entries.get(post_id)
        if entry is None or entry[0] != ver or entry[1] != video_ver:
            self.misses += 1
            return None
        self._entries.move_to_end(post_id)
        self.hits += 1
        return _CONTENT_DECODER.decode(entry[2])

    def put(self, post_id: int, ver: str, video_ver: str | None, content: Content) -> None:
        self._entries[post_id] = (ver, video_ver, _CONTENT_ENCODER.encode(content))
        self._entries.move_to_end(post_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


CONTENT = PostContent()


async def _contents(rows: list[Any]) -> dict[int, Content]:
    """Each row's content, from ``CONTENT`` at the row's versions, the misses in one query."""
    out: dict[int, Content] = {}
    missing = []
    for r in rows:
        found = CONTENT.get(r["id"], r["ver"], r["video_ver"])
        if found is None:
            missing.append(r["id"])
        else:
            out[r["id"]] = found
    if missing:
        store = db.engine().current_transaction.get() is None
        for c in await post_views.post_contents(missing):
            content = Content(
                text=c["text"],
                hashtags=list(c["hashtags"]),
                mentions=list(c["mentions"]),
                created_at=c["created_at"],
                edited_at=c["edited_at"],
                like_count=c["like_count"],
                comment_count=c["comment_count"],
                repost_count=c["repost_count"],
                price_amount=c["price_amount"],
                price_currency=c["price_currency"],
                media=c["media"],
                video=c["video"],
            )
            out[c["id"]] = content
            if store:
                CONTENT.put(c["id"], c["ver"], c["video_ver"], content)
    return out


async def visible_posts(
    viewer: int, ids: list[int], *, feed: bool = False, signer: Any = None, limit: int | None = None
) -> dict[int, schemas.Post]:
    """The posts among ``ids`` that ``viewer`` may see (and, for feeds, has not muted), by id.

    With ``limit``, only the first ``limit`` of them in ``ids`` order: a feed page asks for a few candidates
    more than it shows (some may be hidden) and need not build the posts it will not show.
    """
    if not ids:
        return {}
    seen = await post_views.visible_post_rows(viewer, ids, feed=feed)
    if limit is None:
        return await _build(viewer, seen, signer)
    rank = {post_id: n for n, post_id in enumerate(ids)}
    seen.sort(key=lambda r: rank[r["id"]])
    out: dict[int, schemas.Post] = {}
    start = 0
    while start < len(seen) and len(out) < limit:  # more than one round only when a repost's original is hidden
        end = start + limit - len(out)
        out.update(await _build(viewer, seen[start:end], signer))
        start = end
    return out


async def _build(viewer: int, seen: list[Any], signer: Any) -> dict[int, schemas.Post]:
    """The posts of the visible rows ``seen``, by id (a repost whose original the viewer may not see is left out)."""
    contents = await _contents(seen)
    rows = [(r, contents[r["id"]]) for r in seen if r["id"] in contents]
    originals = {r["repost_of"] for r, _ in rows if r["repost_of"] is not None}
    inner = await visible_posts(viewer, list(originals), signer=signer) if originals else {}
    mention_ids = {m for _, c in rows for m in c.mentions}
    names = await post_views.usernames(list(mention_ids)) if mention_ids else {}
    out: dict[int, schemas.Post] = {}
    for r, c in rows:
        original = None
        if r["repost_of"] is not None:
            original = inner.get(r["repost_of"])
            if original is None:  # the original is gone or hidden: so is the repost
                continue
        media = c.media  # attached images come with the content (NULL for most posts)
        items = _MEDIA.decode(media) if media is not None else []
        if items and not (r["visibility"] == "public" and not r["a_is_private"]):
            # Not public: only URLs bound to this viewer, expiring, open these files (see server.social.media).
            items = [msgspec.structs.replace(m, url=signer.url(m.url, viewer) if signer else m.url) for m in items]
        post = post_view(r, c, names, original, items)
        if c.video is not None:  # a video post (server.video publishes one per ready public video)
            post.video = _VIDEO.decode(c.video)
        out[r["id"]] = post
    return out


def post_view(
    r: Any, c: Content, names: dict[int, str], original: schemas.Post | None, media: list[schemas.Media]
) -> schemas.Post:
    """The post from the viewer's row ``r`` and its content ``c``, in one construction (every post of every page)."""
    # Amount and currency are set together (a paid post has both).
    price = schemas.Price(amount=c.price_amount, currency=cast(str, c.price_currency)) if c.price_amount else None
    # A paid post the viewer has not bought: a teaser (author, price, counts), not its content (see ``locked``).
    shut = price is not None and not r["unlocked"]
    return schemas.Post(
        id=str(r["id"]),
        author=schemas.author_summary(r, "a_id"),
        text="" if shut else c.text,
        visibility=r["visibility"],
        hashtags=c.hashtags,  # decoded afresh for this read: not shared with the cache
        mentions=[] if shut else [schemas.Mention(id=str(m), username=names[m]) for m in c.mentions if m in names],
        created_at=c.created_at,
        edited_at=c.edited_at,
        like_count=c.like_count,
        comment_count=c.comment_count,
        repost_count=c.repost_count,
        liked_by_me=r["liked_by_me"],
        reposted_by_me=r["reposted_by_me"],
        bookmarked_by_me=r["bookmarked_by_me"],
        media=[] if shut else media,
        repost_of=original,
        price=price,
        locked=shut,
    )


def locked(post: schemas.Post, price: schemas.Price) -> schemas.Post:
    """``post`` as someone who has not bought it sees it."""
    return msgspec.structs.replace(post, text="", media=[], mentions=[], price=price, locked=True)


async def in_order(
    viewer: int, ids: list[int], *, feed: bool = True, signer: Any = None, limit: int | None = None
) -> list[schemas.Post]:
    """The visible posts among ``ids``, in ``ids`` order (with ``limit``: the first ``limit`` of them)."""
    found = await visible_posts(viewer, ids, feed=feed, signer=signer, limit=limit)
    return [found[i] for i in ids if i in found]
