"""The hot state interface of ad delivery: spend, pacing, frequency caps, interests and single-use token marks.

Two implementations with the same guarantees: ``RedisHotState`` (shared by every process; each
operation is one atomic Lua script) and ``MemoryHotState`` (one process; each operation runs without an
``await`` inside, so it is atomic on the event loop).

Guarantees:
- ``charge`` counts a token at most once, and never lets a campaign's spend pass its total (or that
  day's) budget: the check and the increment are one atomic step, whatever the concurrency.
- ``select`` reserves a frequency-cap slot for every campaign it returns, in the same atomic step that
  checks the cap: two concurrent pages never both take a user's last slot.
- Counted impressions, clicks and spend go to a pending set that ``take_batches`` moves, atomically,
  into a named batch; a batch stays until ``finish_batch``, so a crash between the two replays it
  (PostgreSQL applies a batch key once).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class Candidate(NamedTuple):
    """A campaign offered to ``select``, in bid order; budgets and the pacing ceiling in thousandths."""

    campaign_id: int
    price_milli: int
    budget_milli: int
    pace_milli: int  # the most it may have spent today by now (``select``'s ``pace_share``: per day); -1 = unpaced
    cap_impressions: int
    cap_seconds: int
    hashtags: tuple[str, ...]  # empty = no hashtag targeting


def pace_ceiling(pace_milli: int, price_milli: int, pace_share: float | None) -> int:
    """The most a candidate may have spent today by now: ``pace_milli`` itself without a share, else that share of
    its daily amount (never less than one impression). The Redis script computes the same in Lua, in the same
    double-precision arithmetic (amounts stay far below 2**53), so both hot states decide alike."""
    if pace_share is None or pace_milli < 0:
        return pace_milli
    return max(int(pace_milli * pace_share), price_milli)


class Charge:
    COUNTED, REPLAYED, OVER_BUDGET = 1, 0, 2


class HotState(Protocol):
    async def select(
        self,
        user_id: int,
        now: float,
        day: str,
        want: int,
        candidates: list[Candidate],
        pace_share: float | None = None,
    ) -> list[int]:
        """Up to ``want`` campaign ids, in candidate order, with budget, pace, interest and cap checked.

        ``pace_share``: the candidates' ``pace_milli`` are daily amounts, of which this share may be spent by now
        (``pace_ceiling``); feed pages pass it, so their candidates stay the same objects from page to page."""
        ...

    async def charge(
        self, nonce: str, ttl: int, campaign_id: int, price: int, budget: int, daily: int, day: str
    ) -> int:
        """Count one impression (a ``Charge`` value); ``daily`` -1 = no daily budget."""
        ...

    async def click(self, nonce: str, ttl: int, campaign_id: int, day: str) -> bool:
        """Count one click; ``False`` when this token already counted one."""
        ...

    async def add_interests(self, user_id: int, tags: list[str], now: float) -> None: ...

    async def seed(self, rows: list[tuple[int, int, str, int]]) -> None:
        """``(campaign, spent, day, spent that day)`` from PostgreSQL, where the hot state has none."""
        ...

    async def take_batches(self, new_key: str) -> list[tuple[str, dict[str, int]]]:
        """Move pending counts into batch ``new_key``; every unfinished batch with its counts."""
        ...

    async def finish_batch(self, key: str) -> None: ...
