"""The live domain's long-lived state in one process: shared counters and the two room tickers.

- Reactions: each node sums its own, and every ``reaction_interval`` hands them to the shared counters,
  which let one node per interval take every node's sums and publish one ``reactions {counts}``.
- Viewers: every ``viewers_interval`` one node per live stream counts presence on ``live:{id}`` plus HLS
  heartbeats, stores current/peak and publishes ``viewers {count}`` when it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

import msgspec
import structlog

from channels.broker import Broker
from channels.presence import LocalPresence
from server.live import queries, schemas
from server.live.counters import SharedCounters
from server.ratelimit import RateLimiter
from server.realtime import kinds
from server.settings import LiveSettings
from server.video.signing import AccessCache, AccessChanges

log = structlog.get_logger(__name__)

PERMISSION_TTL = 2.0
"""Seconds a node trusts "may react here" (reactions are too frequent to ask the database each time). A ban or a
block made on this node ends it at once (``AccessChanges``); one made on another node when its ``sys:recheck`` event
arrives (``RecheckSink``), within this bound only while Redis is away."""


class LiveRuntime:
    """Created once per app in the lifespan; the room and the services receive it."""

    def __init__(
        self,
        settings: LiveSettings,
        redis: Any | None,
        broker: Broker,
        presence: LocalPresence,
        secret_key: str,
        access_changes: AccessChanges | None = None,
    ) -> None:
        self.settings = settings
        self.secret_key = secret_key
        """Signs the HLS playback URLs (``server.live.signing.playback_url``)."""
        # Whether a playback token's viewer may still see its stream (the playback hook's re-check).
        self.playback_access = AccessCache(access_changes)
        self.access_changes = self.playback_access.changes
        # Whether a user may react in a stream (per stream and user), dropped at once by a ban or block made here.
        self.reaction_access = AccessCache(self.access_changes, ttl=PERMISSION_TTL)
        self.broker = broker
        self.presence = presence
        self.counters = SharedCounters(redis)
        self.limiter = RateLimiter(redis, prefix="sf:rl:live:")
        self._reactions: dict[int, Counter[str]] = {}
        self._dirty: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []

    # --- reactions -------------------------------------------------------------------------------

    def add_reaction(self, stream_id: int, kind: str) -> None:
        """Count one reaction; it reaches the room in the next coalesced ``reactions`` event."""
        self._reactions.setdefault(stream_id, Counter())[kind] += 1
        self._dirty.add(stream_id)

    async def flush_reactions(self) -> None:
        interval = self.settings.reaction_interval
        for stream_id in list(self._dirty):
            add = self._reactions.pop(stream_id, Counter())
            try:
                counts = await self.counters.take_reactions(stream_id, add, interval)
            except Exception as exc:  # the shared store is down: these counts are lost, the room goes on
                log.warning("live reactions not shared", stream=stream_id, error=str(exc))
                self._dirty.discard(stream_id)
                continue
            if counts is None:  # another node published within the interval: try again next round
                continue
            self._dirty.discard(stream_id)
            if counts:
                data = msgspec.json.encode(schemas.Reactions(counts))
                await self.broker.publish(kinds.live(stream_id), "reactions", data)

    # --- viewers ---------------------------------------------------------------------------------

    async def count_viewers(self, stream_id: int, owner: int) -> int:
        """Distinct viewers: users with a socket in the room or a playing HLS player, plus anonymous players."""
        users = set(await self.presence.members(kinds.live(stream_id)))
        anonymous = 0
        for member in await self.counters.watchers(stream_id):
            kind, _, ident = member.partition(":")
            if kind == "u":
                users.add(ident)
            else:
                anonymous += 1
        users.discard(str(owner))
        return len(users) + anonymous

    async def publish_viewers(self) -> None:
        interval = self.settings.viewers_interval
        rows = await queries.live_stream_viewers()
        for row in rows:
            stream_id = row["id"]
            if not await self.counters.may_count_viewers(stream_id, interval):
                continue
            count = await self.count_viewers(stream_id, row["owner"])
            if count == row["current_viewers"]:
                continue
            await queries.set_viewers(stream_id, count)
            await self.broker.publish(kinds.live(stream_id), "viewers", msgspec.json.encode(schemas.Viewers(count)))

    # --- permissions cache -----------------------------------------------------------------------

    async def may_play(self, stream_id: int, viewer: int) -> bool:
        """Whether ``viewer`` (0: anonymous) may still see ``stream_id``: the playback hook honours a token
        only then. The stream's visibility rule, cached per stream and viewer for ``ACCESS_RECHECK`` s."""
        allowed = self.playback_access.get(stream_id, viewer)
        if allowed is None:
            asked_at = time.monotonic()
            allowed = await queries.can_see(viewer, stream_id)
            self.playback_access.put(stream_id, viewer, allowed, asked_at)
        return allowed

    def banned(self, user_id: int) -> None:
        """``user_id`` was banned (or timed out) here: their next reaction on this node asks the database again.

        Through ``AccessChanges``, so a permission check that was already running when the ban committed is not
        kept either (``AccessCache.put``'s ``asked_at``)."""
        self.access_changes.note([user_id])

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._every(self.settings.reaction_interval, self.flush_reactions), name="live-reactions"
            ),
            asyncio.create_task(self._every(self.settings.viewers_interval, self.publish_viewers), name="live-viewers"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks = []

    @staticmethod
    async def _every(seconds: float, step: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await step()
            except Exception as exc:
                log.warning("live ticker step failed", step=step.__name__, error=str(exc))
