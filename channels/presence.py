"""Presence: who is connected (per user) and who is in a channel, for the kinds that opt in.

Each process counts its own sockets and heartbeats them into Redis sorted sets whose scores are expiry
times, so a process that dies is forgotten within ``ttl`` seconds. Without Redis the counts stay local.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from typing import Any

from channels import names
from channels.suppressed import suppressed


class LocalPresence:
    """In-process presence (one process only); ``RedisPresence`` shares it across processes."""

    def __init__(self, ttl: float = 30.0, kinds: frozenset[str] = frozenset()) -> None:
        """``kinds``: the channel kinds whose members are tracked (the application's choice)."""
        self.ttl = ttl
        self.kinds = kinds
        # (channel or None for "connected at all", user id) -> local sockets
        self._local: Counter[tuple[str | None, int]] = Counter()

    def tracks(self, channel: names.Channel) -> bool:
        return channel.kind in self.kinds

    async def start(self) -> None:
        """Start heartbeats."""

    async def close(self) -> None:
        """Stop heartbeats and forget this process's entries."""

    async def join(self, user_id: int, channel: str | None) -> None:
        self._local[(channel, user_id)] += 1
        if self._local[(channel, user_id)] == 1:
            await self._add([(channel, user_id)])

    async def leave(self, user_id: int, channel: str | None) -> None:
        key = (channel, user_id)
        if self._local[key] <= 1:
            self._local.pop(key, None)
            await self._remove(channel, user_id)
        else:
            self._local[key] -= 1

    async def members(self, channel: str) -> list[str]:
        """Ids of the users in ``channel``, sorted."""
        return sorted({str(u) for (c, u) in self._local if c == channel}, key=int)

    async def is_online(self, user_id: int) -> bool:
        """Whether the user has at least one open, authenticated socket."""
        return (None, user_id) in self._local

    async def _add(self, entries: list[tuple[str | None, int]]) -> None:
        pass

    async def _remove(self, channel: str | None, user_id: int) -> None:
        pass


_TIMEOUT = 5.0
# Commands (or pipelines) presence runs at once. Every socket joins on connect, so a reconnect storm is a burst
# of joins: ungated, thousands of them queued in the client's pool (``channels.redis_cluster.connect``) and the
# broker's history reads, which the same sockets wait for, queued behind them until they timed out. Here they
# queue for one of these slots instead, and each command's deadline starts once it holds one.
_CONCURRENCY = 8


class RedisPresence(LocalPresence):
    """Presence shared by every process on one Redis."""

    def __init__(
        self, redis: Any, ttl: float = 30.0, kinds: frozenset[str] = frozenset(), prefix: str = "sf:pr"
    ) -> None:
        """``redis``: the process's client (``channels.redis_cluster.connect``, its owner closes it).

        Commands are bounded with asyncio.timeout (the client has no socket_timeout: see ``connect``). On a
        cluster each key lives on its own shard: every command here touches one key.
        """
        super().__init__(ttl, kinds)
        self._redis = redis
        self._prefix = prefix
        self._node = secrets.token_hex(6)
        self._task: asyncio.Task[None] | None = None
        self._gate = asyncio.Semaphore(_CONCURRENCY)

    def _key(self, channel: str | None, user_id: int) -> str:
        return f"{self._prefix}:u:{user_id}" if channel is None else f"{self._prefix}:c:{channel}"

    def _member(self, channel: str | None, user_id: int) -> str:
        return self._node if channel is None else f"{user_id}:{self._node}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        with suppressed("presence_remove_on_close_failed"):  # the entries expire with their TTL anyway
            for channel, user_id in list(self._local):
                await self._remove(channel, user_id)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            with suppressed("presence_heartbeat_failed"):  # retried next beat; entries live ``ttl``
                await self._add(list(self._local))

    async def _add(self, entries: list[tuple[str | None, int]]) -> None:
        if not entries:
            return
        expires = time.time() + self.ttl
        async with self._gate, asyncio.timeout(_TIMEOUT), self._redis.pipeline(transaction=False) as pipe:
            for channel, user_id in entries:
                key = self._key(channel, user_id)
                pipe.zadd(key, {self._member(channel, user_id): expires})
                pipe.expire(key, int(self.ttl) + 1)
            await pipe.execute()

    async def _remove(self, channel: str | None, user_id: int) -> None:
        async with self._gate, asyncio.timeout(_TIMEOUT):
            await self._redis.zrem(self._key(channel, user_id), self._member(channel, user_id))

    async def members(self, channel: str) -> list[str]:
        async with self._gate, asyncio.timeout(_TIMEOUT):
            raw = await self._redis.zrangebyscore(self._key(channel, 0), time.time(), "+inf")
        return sorted({bytes(m).decode().split(":", 1)[0] for m in raw}, key=int)

    async def is_online(self, user_id: int) -> bool:
        async with self._gate, asyncio.timeout(_TIMEOUT):
            return bool(await self._redis.zcount(self._key(None, user_id), time.time(), "+inf"))
