"""Feeds: home (hybrid push/pull), public, hashtag, a user's posts, bookmarks and trending.

Every feed pages by a signed keyset cursor on the time-ordered post id, so pages stay stable while
new posts arrive; every item passes the same visibility, block and mute predicate.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from server import cursor
from server.errors import Forbidden, ValidationFailed
from server.params import MAX_ID
from server.social import schemas
from server.social.home_read import TimelineRead
from server.social.queries import feeds as feed_queries
from server.social.queries.visibility import NOT_MUTED
from server.social.runtime import SocialRuntime
from server.social.services.graph import GraphService
from server.social.services.visibility import in_order
from server.social.text import normalize_tag

Source = Callable[[int | None, int], Awaitable[list[int]]]
CELEBRITIES_TTL = 60  # seconds a viewer's followed-celebrity list is reused between graph changes
TOP = MAX_ID  # "no upper bound" as a value, so the planner always gets a plain `id < $n` range


def _below(max_id: int | None) -> int:
    return TOP if max_id is None else max_id


def _batch(limit: int) -> int:
    """Candidate ids read per round for a page of ``limit``: a little slack for hidden items (and the one
    past the page that says there is more), without hydrating twice the page."""
    want = limit + 1
    return want + want // 4 + 1


class FeedService:
    def __init__(self, runtime: SocialRuntime) -> None:
        self.rt = runtime

    def _max_id(self, kind: str, cur: str | None) -> int | None:
        return cursor.decode_id(self.rt.secret_key, kind, cur)

    async def _page(self, viewer: int, kind: str, cur: str | None, limit: int, source: Source) -> schemas.PostPage:
        """Pull candidate ids from ``source`` (newest first, below a max id) until ``limit`` visible posts."""
        max_id = self._max_id(kind, cur)
        items: list[schemas.Post] = []
        want = limit + 1
        batch = _batch(limit)
        for _ in range(8):  # each round skips what the viewer may not see
            ids = await source(max_id, batch)
            if not ids:
                break
            items.extend(await in_order(viewer, ids, signer=self.rt.media, limit=want - len(items)))
            max_id = ids[-1]
            if len(items) >= want or len(ids) < batch:
                break
        more = len(items) > limit
        items = items[:limit]
        nxt = cursor.encode(self.rt.secret_key, kind, [items[-1].id]) if more and items else None
        return schemas.PostPage(items=items, next_cursor=nxt)

    # -- public, hashtag, profile ------------------------------------------------------------

    async def public(self, viewer: int | None, limit: int, cur: str | None) -> schemas.PostPage:
        async def source(max_id: int | None, n: int) -> list[int]:
            return await feed_queries.public_post_ids(_below(max_id), n)

        return await self._page(viewer or 0, "public", cur, limit, source)

    async def hashtag(self, viewer: int | None, tag: str, limit: int, cur: str | None) -> schemas.PostPage:
        norm = normalize_tag(tag)
        if norm is None:
            raise ValidationFailed("not a hashtag")

        async def source(max_id: int | None, n: int) -> list[int]:
            return await feed_queries.hashtag_post_ids(norm, _below(max_id), n)

        return await self._page(viewer or 0, f"tag:{norm}", cur, limit, source)

    async def user_posts(self, viewer: int | None, username: str, limit: int, cur: str | None) -> schemas.PostPage:
        target = await GraphService(self.rt).user_row(username, viewer)
        tid = target["id"]

        async def source(max_id: int | None, n: int) -> list[int]:
            return await feed_queries.author_post_ids(tid, _below(max_id), n)

        # The cursor scope (not a channel name): a profile cursor only pages this profile.
        return await self._page(viewer or 0, f"profile:{tid}", cur, limit, source)

    async def bookmarks(self, viewer: int, limit: int, cur: str | None) -> schemas.PostPage:
        # Keyset on the post id keeps one cursor shape for every post list.
        async def source(max_id: int | None, n: int) -> list[int]:
            return await feed_queries.bookmarked_post_ids(viewer, _below(max_id), n)

        return await self._page(viewer, "bookmarks", cur, limit, source)

    # -- home ----------------------------------------------------------------------------------

    async def _pushed_ids(self, viewer: int, above: int) -> list[int]:
        """The newest post ids (above ``above``) of the pushed (non-celebrity) followees and self."""
        return await feed_queries.pushed_post_ids(
            viewer, self.rt.settings.celebrity_threshold, self.rt.store.cap, above
        )

    async def rebuild_home(self, viewer: int) -> None:
        """Refill a cold timeline from PostgreSQL (in the background: ``SocialRuntime.warm``)."""
        ids = await self._pushed_ids(viewer, 0)
        await self.rt.store.build_timeline(viewer, ids)
        # A post committed after the query above but pushed before the timeline existed was skipped by
        # the push; read what is newer once more now that pushes land in the timeline.
        for post_id in reversed(await self._pushed_ids(viewer, ids[0] if ids else 0)):
            await self.rt.store.push([viewer], post_id)

    async def _celebrities(self, viewer: int, cached: list[int] | None) -> list[int]:
        """Followed authors above the threshold, cached in the store next to the timeline.

        ``cached`` is what the store held (read with the timeline, in one round trip). A follow change
        drops the entry with the timeline; the TTL bounds how long an author who has just crossed the
        threshold (and whose new posts are no longer pushed) goes unpulled.
        """
        if cached is not None:
            return cached
        ids = await feed_queries.celebrity_followees(viewer, self.rt.settings.celebrity_threshold)
        await self.rt.store.set_celebrities(viewer, ids, CELEBRITIES_TTL)
        return ids

    def home_first(self, limit: int, cur: str | None) -> tuple[int | None, int]:
        """``(max_id, count)`` of a home page's first timeline read (``home``'s ``first`` must be that read)."""
        return self._max_id("home", cur), _batch(limit)

    async def home(
        self, viewer: int, limit: int, cur: str | None, first: TimelineRead | None = None
    ) -> schemas.PostPage:
        """The viewer's home page; ``first``: its first ``store.home_read`` at ``home_first``, if already read."""
        store = self.rt.store
        celebrities: list[int] | None = None

        async def source(max_id: int | None, n: int) -> list[int]:
            nonlocal celebrities
            if celebrities is None:  # the first round: the timeline and the celebrity list in one read
                got, cached = first if first is not None else await store.home_read(viewer, max_id, n)
                celebrities = await self._celebrities(viewer, cached)
            else:
                got = await store.timeline_ids(viewer, max_id, n)
            if got is None:
                # Cold (never read, evicted, or the graph changed): warm it in the background and answer
                # this page from the (author, id) index below, as for a page past the capped window.
                self.rt.warm(viewer, self.rebuild_home)
                got = ([], False)
            pushed, complete = got
            ids = set(pushed)
            if not complete and len(pushed) < n:
                # Below the capped window: read the rest of the push side from PostgreSQL.
                floor = pushed[-1] if pushed else max_id
                ids.update(await feed_queries.followed_post_ids(viewer, _below(floor), n))
            if celebrities:
                # The pull side: celebrities' posts are merged at read time, never pushed; their newest
                # ids are read once per author for every reader of this process (``PulledPosts``).
                ids.update(await self.rt.pulled.newest(celebrities, _below(max_id), n))
            return sorted(ids, reverse=True)[:n]

        return await self._page(viewer, "home", cur, limit, source)

    # -- trending ------------------------------------------------------------------------------

    async def _snapshot(self, kind: str, cur: str | None) -> tuple[str, int]:
        values = cursor.decode(self.rt.secret_key, f"trending:{kind}", cur)
        if values is None:
            return await self.rt.store.trend_snapshot(kind, time.time()), 0
        return str(values[0]), int(values[1])

    async def trending_posts(self, viewer: int | None, limit: int, cur: str | None) -> schemas.PostPage:
        snap, offset = await self._snapshot("posts", cur)
        items: list[schemas.Post] = []
        for _ in range(8):
            entries = await self.rt.store.trend_page(snap, offset, (limit + 1) * 2)
            if entries is None:
                raise ValidationFailed("this trending cursor has expired; start again")
            ids = [int(m) for m, score in entries if score > 0]
            found = {
                int(p.id): p for p in await in_order(viewer or 0, ids, signer=self.rt.media) if p.visibility == "public"
            }
            for member, _score in entries:
                offset += 1
                post = found.get(int(member))
                if post is not None:
                    items.append(post)
                if len(items) > limit:
                    break
            if len(items) > limit or len(entries) < (limit + 1) * 2:
                break
        more = len(items) > limit
        nxt = cursor.encode(self.rt.secret_key, "trending:posts", [snap, offset - 1]) if more else None
        return schemas.PostPage(items=items[:limit], next_cursor=nxt)

    async def trending_tags(self, limit: int, cur: str | None) -> schemas.TagPage:
        snap, offset = await self._snapshot("tags", cur)
        entries = await self.rt.store.trend_page(snap, offset, limit + 1)
        if entries is None:
            raise ValidationFailed("this trending cursor has expired; start again")
        entries = [(m, s) for m, s in entries if s > 0]
        more = len(entries) > limit
        nxt = cursor.encode(self.rt.secret_key, "trending:tags", [snap, offset + limit]) if more else None
        return schemas.TagPage(
            items=[schemas.TrendingTag(tag=m, score=round(s, 4)) for m, s in entries[:limit]], next_cursor=nxt
        )


__all__ = ["NOT_MUTED", "FeedService", "Forbidden"]
