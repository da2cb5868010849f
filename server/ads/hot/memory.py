"""The in-process hot state (no ``REDIS_URL``): one process, each operation atomic on the event loop."""

from __future__ import annotations

import time
from collections import defaultdict

from server.ads.hot.base import Candidate, Charge, pace_ceiling

INTERESTS_KEPT = 200  # newest hashtags per user


class MemoryHotState:
    def __init__(self) -> None:
        self._spent: dict[int, int] = {}
        self._day_spent: dict[tuple[int, str], int] = {}
        self._caps: dict[int, dict[int, tuple[int, float]]] = defaultdict(dict)
        self._interests: dict[int, dict[str, float]] = defaultdict(dict)
        self._used: dict[str, float] = {}  # token nonce -> when its mark expires
        self._pending: dict[str, int] = defaultdict(int)
        self._batches: dict[str, dict[str, int]] = {}

    def _mark_once(self, nonce: str, ttl: int) -> bool:
        now = time.time()
        if len(self._used) > 200_000:
            self._used = {k: exp for k, exp in self._used.items() if exp > now}
        exp = self._used.get(nonce)
        if exp is not None and exp > now:
            return False
        self._used[nonce] = now + ttl
        return True

    async def select(
        self,
        user_id: int,
        now: float,
        day: str,
        want: int,
        candidates: list[Candidate],
        pace_share: float | None = None,
    ) -> list[int]:
        out: list[int] = []
        interests = self._interests.get(user_id, {})
        caps = self._caps[user_id]
        for c in candidates:
            spent = self._spent.get(c.campaign_id, 0)
            if spent + c.price_milli > c.budget_milli:
                continue
            pace = pace_ceiling(c.pace_milli, c.price_milli, pace_share)
            if pace >= 0 and self._day_spent.get((c.campaign_id, day), 0) + c.price_milli > pace:
                continue
            if c.hashtags and not any(t in interests for t in c.hashtags):
                continue
            count, start = caps.get(c.campaign_id, (0, 0.0))
            if now - start >= c.cap_seconds:
                count, start = 0, now
            if count >= c.cap_impressions:
                continue
            caps[c.campaign_id] = (count + 1, start)
            out.append(c.campaign_id)
            if len(out) >= want:
                break
        return out

    async def charge(
        self, nonce: str, ttl: int, campaign_id: int, price: int, budget: int, daily: int, day: str
    ) -> int:
        if not self._mark_once(nonce, ttl):
            return Charge.REPLAYED
        spent = self._spent.get(campaign_id, 0)
        day_spent = self._day_spent.get((campaign_id, day), 0)
        if spent + price > budget or (daily >= 0 and day_spent + price > daily):
            return Charge.OVER_BUDGET
        self._spent[campaign_id] = spent + price
        self._day_spent[(campaign_id, day)] = day_spent + price
        self._pending[f"{campaign_id}:{day}:i"] += 1
        self._pending[f"{campaign_id}:{day}:s"] += price
        return Charge.COUNTED

    async def click(self, nonce: str, ttl: int, campaign_id: int, day: str) -> bool:
        if not self._mark_once(nonce, ttl):
            return False
        self._pending[f"{campaign_id}:{day}:c"] += 1
        return True

    async def add_interests(self, user_id: int, tags: list[str], now: float) -> None:
        mine = self._interests[user_id]
        for tag in tags:
            mine[tag] = now
        if len(mine) > INTERESTS_KEPT:
            for tag, _ in sorted(mine.items(), key=lambda kv: kv[1])[: len(mine) - INTERESTS_KEPT]:
                del mine[tag]

    async def seed(self, rows: list[tuple[int, int, str, int]]) -> None:
        for campaign_id, spent, day, day_spent in rows:
            self._spent.setdefault(campaign_id, spent)
            self._day_spent.setdefault((campaign_id, day), day_spent)

    async def take_batches(self, new_key: str) -> list[tuple[str, dict[str, int]]]:
        if self._pending:
            self._batches[new_key] = dict(self._pending)
            self._pending.clear()
        return [(k, dict(v)) for k, v in self._batches.items()]

    async def finish_batch(self, key: str) -> None:
        self._batches.pop(key, None)
