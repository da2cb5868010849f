"""The rows a post read hydrates: the viewer's part (``VIEW_SELECT``) and the shared content (``CONTENT_SELECT``).

Raw because the viewer's part splices the visibility rule whole and reads several per-viewer ``EXISTS``
flags in one statement; reads outside a transaction may go to a read replica. Values are bind parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.payments.queries.access import bought
from server.social.queries.columns import USER_COLS
from server.social.queries.visibility import NOT_MUTED, VISIBLE

# A post read is two parts. The viewer's part: who may see it (VISIBLE), what the viewer did with it, and
# its author (whose counters move with every follow, so they are read fresh), plus the post row's version
# (``xmin``: every UPDATE of the row, a like's counter included, makes a new one) and its video's.
VIEW_SELECT = f"""
SELECT p.id, p.visibility, p.repost_of, p.xmin::text AS ver,
       (SELECT v.xmin::text FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video_ver,
       (p.price_amount IS NULL OR p.author = $1 OR {bought("post_id", "p.id")}) AS unlocked,
       {", ".join(f"a.{c} AS a_{c}" for c in USER_COLS.split(", "))},
       EXISTS (SELECT 1 FROM post_likes l WHERE l.post = p.id AND l."user" = $1) AS liked_by_me,
       EXISTS (SELECT 1 FROM bookmarks k WHERE k.post = p.id AND k."user" = $1) AS bookmarked_by_me,
       EXISTS (SELECT 1 FROM posts r WHERE r.author = $1 AND r.repost_of = p.id AND r.deleted_at IS NULL)
         AS reposted_by_me
FROM posts p JOIN users a ON a.id = p.author
"""  # noqa: S608 — constant column list

# The part that is the same for everyone, at the versions it was read at (what the content cache keeps).
CONTENT_SELECT = """
SELECT p.id, p.xmin::text AS ver,
       (SELECT v.xmin::text FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video_ver,
       p.text, p.hashtags, p.mentions, p.created_at, p.edited_at, p.like_count, p.comment_count, p.repost_count,
       p.price_amount, p.price_currency,
       (SELECT json_agg(json_build_object('id', m.id::text, 'url', m.url, 'width', m.width, 'height', m.height)
                        ORDER BY m.id)
          FROM post_media m WHERE m.post = p.id) AS media,
       (SELECT json_build_object('id', v.id::text, 'title', v.title, 'duration', v.duration, 'width', v.width,
                                 'height', v.height)
          FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video
FROM posts p WHERE p.id = ANY($1)
"""


async def visible_post_rows(viewer: int, ids: list[int], *, feed: bool = False) -> list[Any]:
    """The viewer's rows (``VIEW_SELECT``) of the posts among ``ids`` that ``viewer`` may see (feeds: not muted)."""
    where = VISIBLE + (" AND " + NOT_MUTED if feed else "")
    return await sql.fetch(VIEW_SELECT + f" WHERE p.id = ANY($2) AND {where}", viewer, ids)


async def post_contents(ids: list[int]) -> list[Any]:
    """The content rows (``CONTENT_SELECT``) of ``ids``, whoever reads them."""
    return await sql.fetch(CONTENT_SELECT, ids)


async def usernames(ids: list[int]) -> dict[int, str]:
    """Username by id, for rendering mentions."""
    found = await sql.fetch("SELECT id, username FROM users WHERE id = ANY($1)", ids)
    return {r["id"]: r["username"] for r in found}
