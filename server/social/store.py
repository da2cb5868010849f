"""Feed state outside PostgreSQL: home timelines, recently-active users, trending scores, dirty stats.

Two implementations with the same guarantees: ``RedisStore`` (shared by every process, used when
``REDIS_URL`` is set) and ``MemoryStore`` (one process, the embedded default).

Timelines: a per-user sorted set of post ids (score = the time-ordered id), capped to ``cap``
newest, holding a sentinel member ``"0"`` that marks it as built. ``push`` only writes timelines that
exist, so a cold timeline is never half-filled: it is rebuilt from PostgreSQL on its next read.
Next to it, the user's followed celebrities (pulled at read), kept for a short TTL and dropped with
the timeline when the user's graph changes.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

_SENTINEL = "0"

_PUSH_LUA = """
local cap = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, ARGV[1], ARGV[2])
    redis.call('ZREMRANGEBYRANK', key, 1, -(cap + 2))
  end
end
return 0
"""

# KEYS: timeline. ARGV: ttl, then score, member pairs. Replaced whole, in one step.
_BUILD_LUA = """
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2000 do  -- unpack is bounded by Lua's stack: at most 1,000 pairs per ZADD
  redis.call('ZADD', KEYS[1], unpack(ARGV, i, math.min(i + 1999, #ARGV)))
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 0
"""

# KEYS: snapshot being built, today's bucket, yesterday's. ARGV: their weights, the snapshot's ttl.
_UNION_LUA = """
local n = redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[2], KEYS[3], 'WEIGHTS', ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return n
"""


def trend_bucket(now: float, day: int = 86400) -> tuple[int, float]:
    """The current trending bucket (a day number) and the bucket's start time."""
    bucket = int(now // day)
    return bucket, bucket * day


SNAPSHOT_SECONDS = 60
"""Trending answers are frozen once per this many seconds and shared by every reader."""
SNAPSHOT_TTL = 900
"""How long a trending cursor can page through its snapshot."""


def snapshot_name(kind: str, now: float) -> str:
    """The shared snapshot of ``kind`` for the time bucket holding ``now``."""
    return f"{kind}-{int(now // SNAPSHOT_SECONDS)}"


class Store(Protocol):
    cap: int
    half_life: float

    async def timeline_ids(self, user_id: int, max_id: int | None, count: int) -> tuple[list[int], bool] | None: ...
    async def home_read(
        self, user_id: int, max_id: int | None, count: int
    ) -> tuple[tuple[list[int], bool] | None, list[int] | None]: ...
    async def build_timeline(self, user_id: int, ids: list[int]) -> None: ...
    async def push(self, user_ids: list[int], post_id: int) -> None: ...
    async def drop_timeline(self, user_id: int) -> None: ...
    async def celebrities(self, user_id: int) -> list[int] | None: ...
    async def set_celebrities(self, user_id: int, ids: list[int], ttl: int) -> None: ...
    async def touch(self, user_id: int, now: float) -> None: ...
    async def active_since(self, since: float) -> list[int]: ...
    async def trend_add(self, kind: str, member: str, amount: float, now: float) -> None: ...
    async def trend_snapshot(self, kind: str, now: float) -> str: ...
    async def trend_page(self, snapshot: str, offset: int, count: int) -> list[tuple[str, float]] | None: ...
    async def mark_dirty(self, post_id: int) -> None: ...
    async def pop_dirty(self, count: int) -> list[int]: ...


def _growth(now: float, start: float, half_life: float) -> float:
    # Score increments grow by 2x per half-life inside a bucket: ranking by the sum is ranking by
    # exponentially time-decayed engagement, updated incrementally (no rescoring on read).
    return math.pow(2.0, (now - start) / half_life)


def _celebrity_list(raw: Any) -> list[int] | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return [int(x) for x in text.split(",") if x]


class RedisStore:
    def __init__(self, redis: Any, *, cap: int, ttl: int, half_life: float, prefix: str = "social:") -> None:
        self.redis, self.cap, self.ttl, self.half_life, self.p = redis, cap, ttl, half_life, prefix
        self._push = redis.register_script(_PUSH_LUA)
        # Scripts, not MULTI: atomic on one key (or one hash-tagged slot) on a single Redis and a cluster alike.
        self._build = redis.register_script(_BUILD_LUA)
        self._union = redis.register_script(_UNION_LUA)
        self._cluster = hasattr(redis, "nodes_manager")  # a redis.asyncio.RedisCluster

    def _tl(self, user_id: int) -> str:
        return f"{self.p}tl:home:{user_id}"

    def _queue_timeline(self, pipe: Any, user_id: int, max_id: int | None, count: int) -> None:
        key = self._tl(user_id)
        # Scores are float64 and ids 57-bit: read inclusively and filter on the exact member.
        pipe.zrevrangebyscore(key, "+inf" if max_id is None else max_id, 1, start=0, num=count + 32)
        pipe.zcard(key)
        pipe.expire(key, self.ttl)

    def _timeline(self, members: list[Any], card: int, max_id: int | None, count: int) -> tuple[list[int], bool] | None:
        if card == 0:
            return None
        ids = [int(m) for m in members]
        if max_id is not None:
            ids = [i for i in ids if i < max_id]
        return ids[:count], card - 1 < self.cap

    async def timeline_ids(self, user_id: int, max_id: int | None, count: int) -> tuple[list[int], bool] | None:
        """Ids below ``max_id``, newest first, and whether the timeline holds everything older too."""
        pipe = self.redis.pipeline(transaction=False)
        self._queue_timeline(pipe, user_id, max_id, count)
        members, card, _ = await pipe.execute()
        return self._timeline(members, card, max_id, count)

    async def home_read(
        self, user_id: int, max_id: int | None, count: int
    ) -> tuple[tuple[list[int], bool] | None, list[int] | None]:
        """``timeline_ids`` and ``celebrities`` in one round trip (a home page needs both)."""
        pipe = self.redis.pipeline(transaction=False)
        read = self.queue_home_read(pipe, user_id, max_id, count)
        return read(await pipe.execute())

    def queue_home_read(
        self, pipe: Any, user_id: int, max_id: int | None, count: int
    ) -> Callable[[list[Any]], tuple[tuple[list[int], bool] | None, list[int] | None]]:
        """Queue ``home_read`` on ``pipe`` (a caller may add its own commands after); returns what reads its
        answer out of the pipeline's replies (from the first one queued here on)."""
        first = len(pipe)
        self._queue_timeline(pipe, user_id, max_id, count)
        pipe.get(self._celebs(user_id))

        def read(replies: list[Any]) -> tuple[tuple[list[int], bool] | None, list[int] | None]:
            members, card, _, raw = replies[first : first + 4]
            return self._timeline(members, card, max_id, count), _celebrity_list(raw)

        return read

    async def build_timeline(self, user_id: int, ids: list[int]) -> None:
        key = self._tl(user_id)
        mapping = {str(i): i for i in ids[: self.cap]}
        mapping[_SENTINEL] = 0
        flat: list[Any] = []
        for member, score in mapping.items():
            flat += [score, member]
        await self._build(keys=[key], args=[self.ttl, *flat])

    async def push(self, user_ids: list[int], post_id: int) -> None:
        for start in range(0, len(user_ids), 1000):
            keys = [self._tl(u) for u in user_ids[start : start + 1000]]
            if self._cluster:
                await self._push_each(keys, post_id)
            else:
                await self._push(keys=keys, args=[post_id, str(post_id), self.cap])

    async def _push_each(self, keys: list[str], post_id: int) -> None:
        """On a cluster the timelines are spread over every shard and a script may touch one slot: one
        call per timeline, 64 in flight (redis-py's cluster pipeline refuses scripts)."""
        args = [post_id, str(post_id), self.cap]
        for start in range(0, len(keys), 64):
            await asyncio.gather(*(self._push(keys=[key], args=args) for key in keys[start : start + 64]))

    async def drop_timeline(self, user_id: int) -> None:
        await self.redis.delete(self._tl(user_id), self._celebs(user_id))

    def _celebs(self, user_id: int) -> str:
        return f"{self.p}tl:celebs:{user_id}"

    async def celebrities(self, user_id: int) -> list[int] | None:
        """The followed celebrities cached by ``set_celebrities``; ``None`` once dropped or expired."""
        return _celebrity_list(await self.redis.get(self._celebs(user_id)))

    async def set_celebrities(self, user_id: int, ids: list[int], ttl: int) -> None:
        await self.redis.set(self._celebs(user_id), ",".join(map(str, ids)), ex=ttl)

    async def touch(self, user_id: int, now: float) -> None:
        await self.redis.zadd(f"{self.p}active", {str(user_id): now})

    async def active_since(self, since: float) -> list[int]:
        key = f"{self.p}active"
        await self.redis.zremrangebyscore(key, "-inf", since)
        return [int(m) for m in await self.redis.zrangebyscore(key, since, "+inf")]

    # A kind's buckets and snapshots share one hash tag: the snapshot unions two buckets and renames
    # into place, so on a Redis Cluster they must live in one slot.
    def _trend(self, kind: str, bucket: int) -> str:
        return f"{self.p}trend:{{{kind}}}:{bucket}"

    def _snap(self, name: str) -> str:
        kind = name.rsplit("-", 1)[0]
        return f"{self.p}trend:snap:{{{kind}}}:{name}"

    async def trend_add(self, kind: str, member: str, amount: float, now: float) -> None:
        bucket, start = trend_bucket(now)
        key = self._trend(kind, bucket)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zincrby(key, amount * _growth(now, start, self.half_life), member)
        pipe.expire(key, 3 * 86400)
        await pipe.execute()

    async def trend_snapshot(self, kind: str, now: float) -> str:
        """Today's and yesterday's scores (one decay scale) frozen once per ``SNAPSHOT_SECONDS``, so paging
        is stable and readers share one copy (a copy per request would let anyone multiply Redis memory)."""
        name = snapshot_name(kind, now)
        snap = self._snap(name)
        if await self.redis.exists(snap):
            return name
        half_life = self.half_life
        bucket, _ = trend_bucket(now)
        keys = {
            self._trend(kind, bucket): 1.0,
            self._trend(kind, bucket - 1): 2.0 ** (-86400 / half_life),
        }
        # Built aside and renamed only if absent: concurrent first readers never swap a snapshot someone
        # is already paging through.
        tmp = f"{snap}:{secrets.token_hex(4)}"
        (k1, w1), (k2, w2) = keys.items()
        count = await self._union(keys=[tmp, k1, k2], args=[w1, w2, SNAPSHOT_TTL])
        if count and not await self.redis.renamenx(tmp, snap):  # nothing trends yet: no key to rename
            await self.redis.delete(tmp)
        return name

    async def trend_page(self, snapshot: str, offset: int, count: int) -> list[tuple[str, float]] | None:
        key = self._snap(snapshot)
        if not await self.redis.exists(key):
            # An empty snapshot has no key (Redis keeps no empty sets): a first page is just empty.
            return [] if offset == 0 else None
        rows = await self.redis.zrevrange(key, offset, offset + count - 1, withscores=True)
        return [(m.decode() if isinstance(m, bytes) else m, float(s)) for m, s in rows]

    async def mark_dirty(self, post_id: int) -> None:
        await self.redis.sadd(f"{self.p}stats:dirty", str(post_id))

    async def pop_dirty(self, count: int) -> list[int]:
        popped = await self.redis.spop(f"{self.p}stats:dirty", count)
        return [int(m) for m in popped or []]


class MemoryStore:
    """The in-process store: same semantics, one process only."""

    def __init__(self, *, cap: int, ttl: int, half_life: float) -> None:
        self.cap, self.ttl, self.half_life = cap, ttl, half_life
        self._tl: dict[int, list[int]] = {}  # ascending post ids
        self._active: dict[int, float] = {}
        self._trend: dict[str, dict[str, float]] = {}
        self._snaps: dict[str, tuple[float, list[tuple[str, float]]]] = {}
        self._dirty: set[int] = set()
        self._celebs: dict[int, tuple[float, list[int]]] = {}  # user -> (expires at, ids)

    async def timeline_ids(self, user_id: int, max_id: int | None, count: int) -> tuple[list[int], bool] | None:
        ids = self._tl.get(user_id)
        if ids is None:
            return None
        end = len(ids) if max_id is None else bisect.bisect_left(ids, max_id)
        return ids[max(0, end - count) : end][::-1], len(ids) < self.cap

    async def home_read(
        self, user_id: int, max_id: int | None, count: int
    ) -> tuple[tuple[list[int], bool] | None, list[int] | None]:
        return await self.timeline_ids(user_id, max_id, count), await self.celebrities(user_id)

    async def build_timeline(self, user_id: int, ids: list[int]) -> None:
        self._tl[user_id] = sorted(ids[: self.cap])

    async def push(self, user_ids: list[int], post_id: int) -> None:
        for user_id in user_ids:
            ids = self._tl.get(user_id)
            if ids is None:
                continue
            pos = bisect.bisect_left(ids, post_id)
            if pos == len(ids) or ids[pos] != post_id:
                ids.insert(pos, post_id)
            if len(ids) > self.cap:
                del ids[: len(ids) - self.cap]

    async def drop_timeline(self, user_id: int) -> None:
        self._tl.pop(user_id, None)
        self._celebs.pop(user_id, None)

    async def celebrities(self, user_id: int) -> list[int] | None:
        entry = self._celebs.get(user_id)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    async def set_celebrities(self, user_id: int, ids: list[int], ttl: int) -> None:
        if len(self._celebs) > 100_000:  # bounded: entries are cheap to recompute
            self._celebs.clear()
        self._celebs[user_id] = (time.monotonic() + ttl, list(ids))

    async def touch(self, user_id: int, now: float) -> None:
        self._active[user_id] = now

    async def active_since(self, since: float) -> list[int]:
        return [u for u, t in self._active.items() if t > since]

    async def trend_add(self, kind: str, member: str, amount: float, now: float) -> None:
        bucket, start = trend_bucket(now)
        scores = self._trend.setdefault(f"{kind}:{bucket}", {})
        scores[member] = scores.get(member, 0.0) + amount * _growth(now, start, self.half_life)

    async def trend_snapshot(self, kind: str, now: float) -> str:
        name = snapshot_name(kind, now)
        if name in self._snaps:
            return name
        half_life = self.half_life
        bucket, _ = trend_bucket(now)
        merged: dict[str, float] = dict(self._trend.get(f"{kind}:{bucket}", {}))
        for member, score in self._trend.get(f"{kind}:{bucket - 1}", {}).items():
            merged[member] = merged.get(member, 0.0) + score * 2.0 ** (-86400 / half_life)
        ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
        self._snaps = {k: v for k, v in self._snaps.items() if v[0] > time.time() - SNAPSHOT_TTL}
        self._snaps[name] = (time.time(), ranked)
        return name

    async def trend_page(self, snapshot: str, offset: int, count: int) -> list[tuple[str, float]] | None:
        entry = self._snaps.get(snapshot)
        if entry is None or entry[0] < time.time() - SNAPSHOT_TTL:
            return None
        return entry[1][offset : offset + count]

    async def mark_dirty(self, post_id: int) -> None:
        self._dirty.add(post_id)

    async def pop_dirty(self, count: int) -> list[int]:
        out: list[int] = []
        while self._dirty and len(out) < count:
            out.append(self._dirty.pop())
        return out
