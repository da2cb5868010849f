"""The social domain's long-lived state: its store, settings, presence and the post.stats flusher."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

from channels.protocol import Position
from server import db, replicas
from server.events import EventBus
from server.realtime import kinds
from server.replicas import ReplicaSet
from server.social.config import SocialSettings
from server.social.media import MediaSigner
from server.social.pulled import PulledPosts
from server.social.queries import graph as graph_queries
from server.social.queries import media as media_queries
from server.social.queries import posts as post_queries
from server.social.store import MemoryStore, RedisStore, Store
from server.video.signing import AccessChanges

log = structlog.get_logger(__name__)

ChannelPositions = Callable[[str], Awaitable[Position | None]]


def _stop_if_cancelled() -> None:
    """End a background loop whose task was asked to stop even if the ``CancelledError`` never reached it.

    On Python 3.11 a cancellation can be consumed inside a library call (``asyncio.wait_for`` returning a
    result that completed in the same loop turn, or a driver turning it into its own error): the loop then
    went back to sleep with the request pending and app shutdown waited on it for ever (the lifespan
    teardown timeouts whose task dumps show ``_flusher`` "cancelling" in ``asyncio.sleep``).
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class SocialRuntime:
    """Created once per process by the composition root (``server.runtime``); services receive it by DI."""

    def __init__(
        self,
        settings: SocialSettings,
        secret_key: str,
        redis: Any | None,
        media_dir: Path | None = None,
        positions: ChannelPositions | None = None,
        replicas: ReplicaSet | None = None,
        *,
        bus: EventBus,
    ) -> None:
        self.settings = settings
        # Where posts, likes, comments, follows and blocks are announced to other domains (``server.events``).
        self.bus = bus
        # Read replicas for list and feed reads (``replicas.reads(rt.replicas, viewer)``); None: the primary.
        self.replicas = replicas
        self.media_dir = media_dir
        # When a viewer's access last changed on this node: every signed-URL access cache of the process
        # (images here, videos, live playback) asks again after it (``server.video.signing.AccessChanges``).
        self.access_changes = AccessChanges()
        self.media = MediaSigner(secret_key, self.access_changes)
        # Image decoding gets its own small pool: uploads never queue behind (or starve) password hashing
        # in the default pool, and at most ``workers`` images are decoded at once (bounded memory).
        self.images = ThreadPoolExecutor(max_workers=settings.image_workers, thread_name_prefix="sf-image")
        self.secret_key = secret_key
        cap, ttl, half = settings.timeline_cap, settings.timeline_ttl_seconds, settings.trending_half_life_seconds
        self.store: Store = (
            RedisStore(redis, cap=cap, ttl=ttl, half_life=half)
            if redis is not None
            else MemoryStore(cap=cap, ttl=ttl, half_life=half)
        )
        # Celebrities' newest post ids, shared by every reader of this process (the home feed's pull side).
        self.pulled = PulledPosts()
        self._touched: dict[int, float] = {}
        # The broker's ``position(channel)`` (None in a process without the realtime layer, e.g. a worker).
        self.positions = positions
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        # Home timelines being rebuilt in the background, one task per user at most (see ``warm``).
        self._warming: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        self._stopped = asyncio.Event()

    async def sweep_orphan_media(self) -> int:
        """Delete uploads never attached to a post within ``orphan_media_seconds`` (rows and files)."""
        rows = await media_queries.delete_orphan_media(float(self.settings.orphan_media_seconds))
        if self.media_dir is not None:
            for row in rows:
                name = str(row["url"]).rsplit("/", 1)[-1]
                (self.media_dir / "images" / name).unlink(missing_ok=True)
        return len(rows)

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False once ``stop`` was called (a stop never depends on a cancellation arriving:
        on 3.11 a library's ``asyncio.wait_for`` can swallow one, and the loop would go on and hold shutdown)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopped.wait()
        return not self._stopping

    async def _sweep_loop(self) -> None:
        while await self._pause(self.settings.orphan_sweep_seconds):
            try:
                removed = await self.sweep_orphan_media()
                if removed:
                    log.info("orphan_media_removed", count=removed)
            except Exception:
                log.exception("orphan_media_sweep_failed")
            _stop_if_cancelled()

    async def touch(self, user_id: int) -> None:
        """Mark ``user_id`` recently active (at most once a minute per process: it is on every request)."""
        now = time.time()
        if now - self._touched.get(user_id, 0.0) < 60:
            return
        self._touched[user_id] = now
        if len(self._touched) > 100_000:
            self._touched.clear()
        await self.store.touch(user_id, now)
        # Durable, coarse last-seen (once a minute per user per process), for operators and rebuilds.
        await graph_queries.touch_last_active(user_id)

    async def graph_changed(self, user_id: int) -> None:
        """``user_id`` followed or unfollowed someone: rebuild their timeline and celebrity list on next read, and
        ask their signed media URLs' access again (at once on this node; other nodes when the change's re-check
        event reaches them)."""
        self.access_changes.note([user_id])
        await self.store.drop_timeline(user_id)  # the store drops the cached celebrity list with it

    def warm(self, user_id: int, rebuild: Callable[[int], Awaitable[None]]) -> None:
        """Rebuild ``user_id``'s cold home timeline in the background; a read never waits for it.

        At most one rebuild per user runs at a time; ``stop`` cancels and awaits them before the
        database pool closes, so none is left holding a connection at shutdown.
        """
        if self._stopping or user_id in self._warming:
            return
        with replicas.on_primary():  # a timeline is built from the primary, never from a lagging replica
            task = asyncio.create_task(self._warm(user_id, rebuild), name=f"warm-home-{user_id}")
        self._warming[user_id] = task
        task.add_done_callback(lambda _: self._warming.pop(user_id, None))

    @staticmethod
    async def _warm(user_id: int, rebuild: Callable[[int], Awaitable[None]]) -> None:
        try:
            await rebuild(user_id)
        except Exception:
            log.exception("home_timeline_warm_failed", user_id=user_id)

    async def online_among(self, candidates: list[int] | None = None) -> list[int]:
        """Users to get live home events: realtime presence when present, else recently active."""
        active = await self.store.active_since(time.time() - self.settings.active_window_seconds)
        if candidates is None:
            return active
        wanted = set(candidates)
        return [u for u in active if u in wanted]

    async def home_position(self, user_id: int) -> Any:
        """The ``timeline:home:{id}`` position ``{offset, epoch}`` (``None`` without the realtime layer)."""
        from server.social.schemas import Position

        if self.positions is None:
            return None
        pos = await self.positions(kinds.home(user_id))
        if pos is None:  # the broker cannot say now (``server.realtime.runtime.position_or_none``)
            return None
        return Position(offset=int(pos.offset), epoch=str(pos.epoch))

    async def flush_stats(self) -> int:
        """Emit one ``post.stats`` per post liked or commented since the last flush; how many."""
        from server.outbox import emit_many

        ids = await self.store.pop_dirty(500)
        if not ids:
            return 0
        async with db.transaction():
            rows = await post_queries.post_stats(ids)
            await emit_many(
                [
                    (
                        kinds.post(r["id"]),
                        "post.stats",
                        {"id": str(r["id"]), "like_count": r["like_count"], "comment_count": r["comment_count"]},
                    )
                    for r in rows
                ]
            )
        return len(rows)

    async def _flusher(self) -> None:
        # Coalescing: however many likes land, each post gets at most one post.stats per tick.
        while await self._pause(self.settings.stats_flush_seconds):
            try:
                await self.flush_stats()
            except Exception:
                log.exception("post_stats_flush_failed")
            _stop_if_cancelled()

    def start(self) -> None:
        self._task = asyncio.create_task(self._flusher())
        self._sweeper = asyncio.create_task(self._sweep_loop())

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        warming = list(self._warming.values())
        for task in warming:
            task.cancel()
        if warming:
            await asyncio.wait(warming)
        for background in (self._task, self._sweeper):
            if background is not None:
                await asyncio.wait([background], timeout=2.0)  # ends at its next pause, or after its step
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
        self.images.shutdown(wait=False, cancel_futures=True)
