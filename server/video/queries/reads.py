"""Reads of videos through the visibility rule: one video, lists, search, related, and an owner's quota use."""

from __future__ import annotations

from typing import Any

from server import sql
from server.video.queries.visibility import FROM, STAFF, VIDEO_COLS, listed, unlocked, visible


async def visible_row(viewer: int, video_id: int, *, staff: bool = False) -> Any:
    """The video row if ``viewer`` may see it, else ``None``."""
    return await sql.fetchrow(
        f"SELECT {VIDEO_COLS} {FROM} WHERE v.id = $2 AND {visible(staff=staff)}", viewer, video_id
    )


async def may_play(viewer: int, video_id: int) -> bool:
    """Whether ``viewer`` may watch ``video_id``'s files now: what ``GET /videos/{id}/playback`` checks (seen,
    as staff too; ready; unlocked), asked again by the media route for each URL signed for ``viewer``."""
    return bool(
        await sql.fetchval(
            f"SELECT EXISTS (SELECT 1 {FROM} WHERE v.id = $2 AND v.status = 'ready' AND {unlocked()} "
            f"AND ({visible()} OR ({STAFF} AND {visible(staff=True)})))",
            viewer,
            video_id,
        )
    )


async def rows_by_id(viewer: int, ids: list[int]) -> dict[int, Any]:
    """The listable videos among ``ids`` for ``viewer``."""
    if not ids:
        return {}
    rows = await sql.fetch(f"SELECT {VIDEO_COLS} {FROM} WHERE v.id = ANY($2) AND {listed()}", viewer, ids)
    return {r["id"]: r for r in rows}


async def newest(viewer: int, below: int, limit: int, owner: int | None = None) -> list[Any]:
    """Newest listable videos below an id (keyset): the ``videos_ready_id`` / ``videos_owner_id`` ranges."""
    by_owner = "AND v.owner = $4" if owner is not None else "AND $4::bigint IS NULL"
    return await sql.fetch(
        f"SELECT {VIDEO_COLS} {FROM} WHERE v.id < $2 {by_owner} AND {listed()} ORDER BY v.id DESC LIMIT $3",
        viewer,
        below,
        limit,
        owner,
    )


# Full-text rank first (words as typed, 'simple' dictionary: any language), then trigram similarity so
# that a typo still finds the title. The two GIN indexes on search_text serve the two conditions.
_SEARCH = (
    f"SELECT {VIDEO_COLS}, ts_rank(to_tsvector('simple', v.search_text), plainto_tsquery('simple', $2)) AS rank, "
    "word_similarity($2, v.search_text) AS sim "
    f"{FROM} WHERE (to_tsvector('simple', v.search_text) @@ plainto_tsquery('simple', $2) "
    "OR v.search_text %> $2) AND {listed} ORDER BY rank DESC, sim DESC, v.id DESC OFFSET $3 LIMIT $4"
)


async def search(viewer: int, q: str, offset: int, limit: int) -> list[Any]:
    return await sql.fetch(_SEARCH.format(listed=listed()), viewer, q, offset, limit)


async def related(viewer: int, video_id: int, tags: list[str], offset: int, limit: int) -> list[Any]:
    """Videos sharing the most tags with ``video_id`` (GIN ``&&`` on tags), then newest."""
    return await sql.fetch(
        f"SELECT {VIDEO_COLS}, cardinality(ARRAY(SELECT unnest(v.tags) INTERSECT SELECT unnest($3::varchar[]))) "
        f"AS shared {FROM} WHERE v.tags && $3::varchar[] AND v.id <> $2 AND {listed()} "
        "ORDER BY shared DESC, v.id DESC OFFSET $4 LIMIT $5",
        viewer,
        video_id,
        tags,
        offset,
        limit,
    )


async def used_bytes(owner: int) -> int:
    """What ``owner``'s live videos count against the quota (declared lengths of uploads in progress too)."""
    value = await sql.fetchval(
        "SELECT coalesce(sum(greatest(size_bytes, coalesce(upload_length, 0))), 0) FROM videos "
        "WHERE owner = $1 AND deleted_at IS NULL",
        owner,
    )
    return int(value)
