"""Fixed-window rate limits: shared through Redis when configured, in process memory otherwise.

A window opens with its key's first hit and lasts ``limit.seconds``; at most ``limit.count`` hits
fit in it. Over the limit, ``RateLimited`` carries the seconds until the window closes (the
``Retry-After`` of the 429). Redis counts with one atomic script, so every node shares the count.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import structlog

from server.errors import RateLimited
from server.settings import Limit

log = structlog.get_logger(__name__)

# INCRBY and the window's expiry in one step: no key is ever left without a TTL.
_HIT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {n, ttl}
"""


def subject_key(*parts: str) -> str:
    """A key part for user-typed values (logins, emails) that never puts them in Redis as-is."""
    return hashlib.sha256("\x1f".join(parts).lower().encode()).hexdigest()[:32]


class RateLimiter:
    """Counts hits per key; ``redis`` (redis-py asyncio) shares the counts between processes."""

    def __init__(self, redis: Any | None = None, prefix: str = "sf:rl:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._memory: dict[str, tuple[int, float]] = {}
        self._script: Any = redis.register_script(_HIT) if redis is not None else None

    async def hit(self, key: str, limit: Limit) -> None:
        """Count one hit; raise ``RateLimited`` when it is over the limit."""
        count, retry_after = await self._add(key, limit, 1)
        if count > limit.count:
            raise RateLimited(retry_after, "too many attempts; try again later")

    async def record(self, key: str, limit: Limit) -> None:
        """Count one hit (a failure, say) without refusing it; a later ``check`` refuses."""
        await self._add(key, limit, 1)

    async def check(self, key: str, limit: Limit) -> None:
        """Raise ``RateLimited`` if the window is already full, without counting."""
        count, retry_after = await self._add(key, limit, 0)
        if count >= limit.count:
            raise RateLimited(retry_after, "too many attempts; try again later")

    async def clear(self, key: str) -> None:
        if self.redis is not None:
            await self.redis.delete(self.prefix + key)
        self._memory.pop(key, None)

    async def _add(self, key: str, limit: Limit, amount: int) -> tuple[int, int]:
        """``(count after adding, seconds left in the window)``."""
        if self._script is not None and self.redis is not None:
            count, ttl = await self._script(keys=[self.prefix + key], args=[amount, limit.seconds])
            if amount == 0 and int(count) == 0:
                # A peek must not leave an empty window behind.
                await self.redis.delete(self.prefix + key)
            return int(count), max(1, int(ttl))
        return self._add_memory(key, limit, amount)

    def _add_memory(self, key: str, limit: Limit, amount: int) -> tuple[int, int]:
        now = time.monotonic()
        count, ends = self._memory.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + limit.seconds
        count += amount
        if count:
            self._memory[key] = (count, ends)
        if len(self._memory) > 100_000:
            self._prune(now)
        return count, max(1, int(ends - now + 0.999))

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, ends) in self._memory.items() if ends <= now]:
            del self._memory[key]


def write_limit(kind: str) -> Any:
    """A route guard: at most ``rate_limits.write_<kind>`` such writes per user (429 with ``Retry-After``).

    Runs before the body is read; the caller must be signed in (401 otherwise, as the handler would say).
    """
    from server.deps import limiter_of, settings_of, user_from_connection  # deps imports this module

    field = f"write_{kind}"

    async def guard(connection: Any, _: Any) -> None:
        user = await user_from_connection(connection)
        limit = getattr(settings_of(connection).rate_limits, field)
        await limiter_of(connection).hit(f"write:{kind}:{user.id}", limit)

    guard.__name__ = f"write_limit_{kind}"
    return guard
