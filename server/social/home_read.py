"""The start of a home-feed read: the session check, the timeline, the followed celebrities and (first page)
the live position of ``timeline:home:{id}``, in one Redis round trip.

Each of the four was its own round trip (~75 µs of the worker's CPU per redis-py command, ~150 µs per
pipeline, measured on the bench machine). Each owner still builds its own commands (``Revocations.key``,
``RedisStore.queue_home_read``, ``RedisBroker.queue_position``) on a redis-py pipeline; this only sends them
together, on ``RedisLane``'s connection shared by concurrent reads rather than through ``Pipeline.execute``. Nothing
changes in what is checked: the token is verified first, the session's revocation key is read on every
request, and a revoked session gets 401 before anything read is used. Without Redis, on a Redis Cluster
(whose pipelines refuse scripts, and whose keys live on several shards) or when the pipeline fails, each
part runs on its own as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog

from channels.redis import RedisBroker
from channels.redis_cluster import ClusterBroker
from server.deps import AccessTokens, CurrentUser
from server.realtime import kinds
from server.redis_lane import REDIS_ERRORS, RedisLane
from server.social.runtime import SocialRuntime
from server.social.schemas import Position
from server.social.store import RedisStore

log = structlog.get_logger(__name__)

_TIMEOUT = 5.0  # seconds: the client has no socket timeout (``channels.redis_cluster.connect``)

TimelineRead = tuple[tuple[list[int], bool] | None, list[int] | None]
"""``Store.home_read``'s answer: the timeline (ids, complete) or ``None`` when cold, and the cached celebrities."""


@dataclass(frozen=True, slots=True)
class HomeStart:
    viewer: CurrentUser
    first: TimelineRead | None
    """The first ``home_read(viewer, max_id, count)``, or ``None`` when it was not read here."""
    position: Position | None
    """Where to subscribe ``timeline:home:{id}`` from (first page with the realtime layer), else ``None``."""


class HomeRead:
    """One per process, built by the composition root with the objects whose reads it batches."""

    def __init__(self, redis: Any | None, tokens: AccessTokens, social: SocialRuntime, broker: Any | None) -> None:
        self.redis = redis
        self.tokens = tokens
        self.social = social  # its store is read per request: tests swap it for the in-process one
        self.broker = broker
        self.batchable = (
            redis is not None
            and not hasattr(redis, "nodes_manager")  # a RedisCluster client
            and isinstance(broker, RedisBroker)
            and not isinstance(broker, ClusterBroker)
        )
        # The pipeline goes out on a connection shared by concurrent reads (no pool checkout per request);
        # ``pipe`` below only builds the commands, with the owners' own builders.
        self.lane = RedisLane(redis.connection_pool) if redis is not None and self.batchable else None

    async def close(self) -> None:
        """Close the shared connection (the composition root calls it before closing the Redis client)."""
        if self.lane is not None:
            await self.lane.close()

    async def start(self, token: str, max_id: int | None, count: int, *, first_page: bool) -> HomeStart:
        """Authenticate ``token`` (``Unauthorized`` otherwise) and read the page's first ``count`` timeline ids
        below ``max_id`` with what goes with them; 401 comes before anything read is used."""
        user_id, session_id = self.tokens.verify(token)
        store = self.social.store
        if self.batchable and isinstance(store, RedisStore) and not self.tokens.revocations.revoked_here(session_id):
            try:
                return await self._batched(store, user_id, session_id, max_id, count, first_page)
            except REDIS_ERRORS as exc:  # the parts on their own (each handles Redis being down its own way)
                log.warning("home_read_batch_failed", error=type(exc).__name__)
        viewer = await self.tokens.authenticate(token)
        return HomeStart(viewer, None, await self.social.home_position(viewer.id) if first_page else None)

    async def _batched(
        self, store: RedisStore, user_id: int, session_id: int, max_id: int | None, count: int, first_page: bool
    ) -> HomeStart:
        assert isinstance(self.broker, RedisBroker) and self.lane is not None  # see batchable
        pipe = self.redis.pipeline(transaction=False)  # type: ignore[union-attr]
        pipe.exists(self.tokens.revocations.key(session_id))
        # The position before the timeline: a post published after it reaches the socket, one before it is
        # either on the page or was pushed to the timeline after this read (as with two round trips).
        position = self.broker.queue_position(pipe, kinds.home(user_id)) if first_page else None
        timeline = store.queue_home_read(pipe, user_id, max_id, count)
        async with asyncio.timeout(_TIMEOUT):
            replies = await self.lane.execute([args for args, _ in pipe.command_stack])
        viewer = await self.tokens.settle(user_id, session_id, bool(replies[0]))
        pos = position(replies[1]) if position is not None else None
        return HomeStart(
            viewer, timeline(replies), Position(offset=pos.offset, epoch=pos.epoch) if pos is not None else None
        )
