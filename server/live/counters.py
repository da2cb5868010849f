"""Room counters shared by every node: coalesced reactions, viewer counts, HLS heartbeats, slow mode.

With Redis each is one key (or one script) that all nodes share; without it (one process) a dict.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

# Add this node's counts to the room's hash, then, if no node published within the interval (the lock),
# take the whole hash: what every node added since the last ``reactions`` event, in one atomic step.
_REACTIONS = """
for i = 1, #ARGV - 1, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], 60000)
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[#ARGV]) then
  local all = redis.call('HGETALL', KEYS[1])
  redis.call('DEL', KEYS[1])
  return {1, all}
end
return {0, {}}
"""


class SharedCounters:
    """What the room needs from a store shared by the nodes (``redis`` is redis-py asyncio, or ``None``)."""

    def __init__(self, redis: Any | None, prefix: str = "sf:live") -> None:
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(_REACTIONS) if redis is not None else None
        self._locks: dict[str, float] = {}
        self._pending: dict[int, Counter[str]] = {}
        self._watch: dict[int, dict[str, float]] = {}
        self._slow: dict[tuple[int, int], float] = {}

    def _lock_local(self, key: str, seconds: float) -> bool:
        now = time.monotonic()
        if self._locks.get(key, 0.0) > now:
            return False
        self._locks[key] = now + seconds
        return True

    async def take_reactions(self, stream_id: int, add: Counter[str], interval: float) -> dict[str, int] | None:
        """Add ``add``; return every node's counts since the last take when this node may publish now, else ``None``."""
        if self._script is None:
            pending = self._pending.setdefault(stream_id, Counter())
            pending.update(add)
            if not self._lock_local(f"rx:{stream_id}", interval):
                return None
            counts = dict(self._pending.pop(stream_id))
            return {k: v for k, v in counts.items() if v}
        args: list[Any] = [x for kind, n in add.items() for x in (kind, n)]
        args.append(int(interval * 1000))
        # One hash tag per stream: the script touches both keys, so on a cluster they share a slot.
        keys = [f"{self.prefix}:rx:{{{stream_id}}}", f"{self.prefix}:rx:{{{stream_id}}}:lock"]
        took, flat = await self._script(keys=keys, args=args)
        if not int(took):
            return None
        return {bytes(flat[i]).decode(): int(flat[i + 1]) for i in range(0, len(flat), 2) if int(flat[i + 1])}

    async def may_count_viewers(self, stream_id: int, interval: float) -> bool:
        """Whether this node publishes the room's viewer count now (at most one node per ``interval``)."""
        if self.redis is None:
            return self._lock_local(f"vw:{stream_id}", interval)
        key = f"{self.prefix}:vw:{stream_id}:lock"
        return bool(await self.redis.set(key, "1", nx=True, px=int(interval * 1000)))

    async def heartbeat(self, stream_id: int, member: str, ttl: float) -> None:
        """An HLS player is watching (``member``: ``u:{user id}`` or ``s:{session id}``) for ``ttl`` more seconds."""
        expires = time.time() + ttl
        if self.redis is None:
            self._watch.setdefault(stream_id, {})[member] = expires
            return
        key = f"{self.prefix}:hls:{stream_id}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {member: expires})
            pipe.expire(key, int(ttl) + 5)
            await pipe.execute()

    async def watchers(self, stream_id: int) -> list[str]:
        """Members whose heartbeat has not expired."""
        now = time.time()
        if self.redis is None:
            watch = self._watch.get(stream_id, {})
            for member in [m for m, t in watch.items() if t <= now]:
                del watch[member]
            return list(watch)
        key = f"{self.prefix}:hls:{stream_id}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        return [bytes(m).decode() for m in members]

    async def slow_mode_allows(self, stream_id: int, user_id: int, seconds: int) -> bool:
        """Whether ``user_id`` may post now under slow mode (and, if so, starts their wait)."""
        if self.redis is None:
            now = time.monotonic()
            if self._slow.get((stream_id, user_id), 0.0) > now:
                return False
            self._slow[(stream_id, user_id)] = now + seconds
            if len(self._slow) > 100_000:
                self._slow = {k: t for k, t in self._slow.items() if t > now}
            return True
        key = f"{self.prefix}:slow:{stream_id}:{user_id}"
        return bool(await self.redis.set(key, "1", nx=True, ex=seconds))

    def forget(self, stream_id: int) -> None:
        self._watch.pop(stream_id, None)
        self._pending.pop(stream_id, None)
