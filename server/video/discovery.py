"""Lists of ready videos the caller may see: newest, trending, search, a creator's, related."""

from __future__ import annotations

import time
from typing import Any

from server import cursor
from server.deps import CurrentUser
from server.errors import NotFound, ValidationFailed
from server.social.queries.visibility import is_blocked_either_way
from server.video import schemas
from server.video.queries import reads as read_queries
from server.video.queries import uploads as upload_queries
from server.video.runtime import VideoRuntime
from server.video.views import video_view

TOP = (1 << 63) - 1


class DiscoveryService:
    def __init__(self, runtime: VideoRuntime) -> None:
        self.rt = runtime

    def _decode(self, kind: str, cur: str | None) -> list[Any] | None:
        values = cursor.decode(self.rt.secret_key, kind, cur)
        return list(values) if values is not None else None

    def _page(self, viewer: int, rows: list[Any], limit: int, kind: str, nxt: list[Any] | None) -> schemas.VideoPage:
        items = [video_view(self.rt, r, viewer) for r in rows[:limit]]
        token = cursor.encode(self.rt.secret_key, kind, nxt) if nxt is not None and len(rows) > limit else None
        return schemas.VideoPage(items=items, next_cursor=token)

    async def newest(self, user: CurrentUser | None, limit: int, cur: str | None, owner: int | None = None) -> Any:
        viewer = user.id if user else 0
        kind = f"videos:{owner or 0}"
        values = self._decode(kind, cur)
        below = _int(values[0]) if values else TOP
        rows = await read_queries.newest(viewer, below, limit + 1, owner)
        return self._page(viewer, rows, limit, kind, [str(rows[limit - 1]["id"])] if len(rows) > limit else None)

    async def by_user(self, user: CurrentUser | None, username: str, limit: int, cur: str | None) -> Any:
        owner = await upload_queries.user_id_by_name(username.lower())
        if owner is None:
            raise NotFound("no such user")
        viewer = user.id if user else 0
        if viewer and await is_blocked_either_way(viewer, owner):
            raise NotFound("no such user")
        return await self.newest(user, limit, cur, owner)

    async def search(self, user: CurrentUser | None, q: str, limit: int, cur: str | None) -> schemas.VideoPage:
        q = q.strip()
        if not q:
            raise ValidationFailed("q must not be empty")
        viewer = user.id if user else 0
        kind = f"vsearch:{q}"
        values = self._decode(kind, cur)
        offset = _int(values[0]) if values else 0
        rows = await read_queries.search(viewer, q, offset, limit + 1)
        return self._page(viewer, rows, limit, kind, [str(offset + limit)])

    async def related(self, user: CurrentUser | None, video_id: int, limit: int, cur: str | None) -> Any:
        viewer = user.id if user else 0
        row = await read_queries.visible_row(viewer, video_id)
        if row is None:
            raise NotFound("no such video")
        kind = f"vrelated:{video_id}"
        values = self._decode(kind, cur)
        offset = _int(values[0]) if values else 0
        rows = await read_queries.related(viewer, video_id, list(row["tags"]), offset, limit + 1) if row["tags"] else []
        return self._page(viewer, rows, limit, kind, [str(offset + limit)])

    async def trending(self, user: CurrentUser | None, limit: int, cur: str | None) -> schemas.VideoPage:
        """Public videos by time-decayed views and likes (the social store's trending, kind ``videos``)."""
        if self.rt.social is None:
            return schemas.VideoPage(items=[], next_cursor=None)
        store = self.rt.social.store
        viewer = user.id if user else 0
        values = self._decode("vtrending", cur)
        if values is None:
            snap, offset = await store.trend_snapshot("videos", time.time()), 0
        else:
            snap, offset = str(values[0]), _int(values[1])
        items: list[schemas.Video] = []
        more = False
        for _ in range(5):  # each round skips what the viewer may not see
            entries = await store.trend_page(snap, offset, (limit + 1) * 2)
            if entries is None:
                raise ValidationFailed("this trending cursor has expired; start again")
            ids = [int(m) for m, _ in entries]
            found = await read_queries.rows_by_id(viewer, ids)
            for i in ids:
                offset += 1
                if i in found:
                    if len(items) == limit:
                        more, offset = True, offset - 1
                        break
                    items.append(video_view(self.rt, found[i], viewer))
            if more or len(entries) < (limit + 1) * 2:
                break
        nxt = cursor.encode(self.rt.secret_key, "vtrending", [snap, str(offset)]) if more else None
        return schemas.VideoPage(items=items, next_cursor=nxt)

    async def pending(self, user: CurrentUser, limit: int, cur: str | None) -> schemas.VideoPage:
        """The moderation queue (every state), oldest first."""
        values = self._decode("vpending", cur)
        rows = await upload_queries.pending_page(user.id, _int(values[0]) if values else 0, limit + 1)
        nxt = [str(rows[limit - 1]["id"])] if len(rows) > limit else None
        return self._page(user.id, rows, limit, "vpending", nxt)


def _int(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("cursor is not valid for this list") from exc
