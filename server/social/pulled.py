"""The pull side of the home feed: celebrities' newest post ids, read once per author, shared by every reader."""

from __future__ import annotations

import time

from server.params import MAX_ID
from server.social.queries import feeds as feed_queries


class PulledPosts:
    """Per process: each pulled author's newest post ids, kept for ``ttl`` seconds.

    Without it every page of every follower of a 100k-follower account ran its own index range for that
    author, so one celebrity's audience reading at once cost the database (and this process) once per
    reader. A post the author makes on this process drops the entry at once (``forget``); one made on
    another process is seen within ``ttl``. Only candidate ids are shared: a deleted, hidden or muted
    post is still filtered for each viewer when the page is hydrated.
    """

    def __init__(self, depth: int = 64, ttl: float = 1.0, size: int = 10_000) -> None:
        self.depth, self.ttl, self.size = depth, ttl, size
        self._entries: dict[int, tuple[float, list[int]]] = {}  # author -> (expires at, newest ids first)

    async def _newest(self, author: int, now: float) -> list[int]:
        entry = self._entries.get(author)
        if entry is not None and entry[0] > now:
            return entry[1]
        ids = await feed_queries.author_post_ids(author, MAX_ID, self.depth)
        if len(self._entries) >= self.size:
            self._entries.clear()  # bounded: an entry is one index range to rebuild
        self._entries[author] = (now + self.ttl, ids)
        return ids

    async def newest(self, authors: list[int], below: int, n: int) -> list[int]:
        """The ``n`` newest post ids of ``authors`` below ``below``, newest first (as ``authors_post_ids``)."""
        now = time.monotonic()
        out: list[int] = []
        deeper: list[int] = []  # authors whose kept window does not reach this far down
        for author in authors:
            ids = await self._newest(author, now)
            below_bound = [i for i in ids if i < below]
            if len(below_bound) >= n or len(ids) < self.depth:  # enough, or the author has nothing older
                out.extend(below_bound[:n])
            else:
                deeper.append(author)
        if deeper:
            out.extend(await feed_queries.authors_post_ids(deeper, below, n))
        out.sort(reverse=True)
        return out[:n]

    def forget(self, author: int) -> None:
        """``author`` posted (on this process): the next read loads their newest ids again."""
        self._entries.pop(author, None)
