"""Pure statistics of the load generator: percentiles, the sustained-rate rule, summaries (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

#: A step is sustained when at least this share of the expected frames arrived ...
MIN_DELIVERED = 0.99
#: ... and the probes' p99 publish->receive latency stayed under this many milliseconds.
MAX_P99_MS = 250.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 < q <= 100) by the nearest-rank method; None for no values."""
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def is_sustained(delivered: int, expected: int, p99_ms: float | None) -> bool:
    """The sustained-rate rule: >= 99% of expected frames delivered and p99 < 250 ms."""
    if expected <= 0 or p99_ms is None:
        return False
    return delivered / expected >= MIN_DELIVERED and p99_ms < MAX_P99_MS


@dataclass
class Step:
    """One step of rising publish rate, as measured."""

    offered: float  # deliveries/s asked for (publish rate x sockets)
    seconds: float  # wall time the publishes were spread over
    expected: int  # frames that should have arrived (publishes x sockets)
    delivered: int  # frames that did arrive before the drain deadline
    p50_ms: float | None
    p99_ms: float | None
    samples: int  # probe latency samples
    client_cpu: float = 0.0  # load generator CPU share over the step (1.0 = its whole core)
    server_cpu: float = 0.0  # server CPU share over the step (1.0 = its whole core; less = starved or idle)
    per_cpu_second: float | None = None  # deliveries per second of server CPU: robust to noisy neighbours

    @property
    def achieved(self) -> float:
        """Deliveries per second actually received."""
        return self.delivered / self.seconds if self.seconds > 0 else 0.0

    @property
    def sustained(self) -> bool:
        return is_sustained(self.delivered, self.expected, self.p99_ms)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "achieved": self.achieved, "sustained": self.sustained}


def summarize(offered: float, seconds: float, expected: int, delivered: int, latencies_ms: Sequence[float]) -> Step:
    """Build a Step from raw counts and probe latencies."""
    return Step(
        offered=offered,
        seconds=seconds,
        expected=expected,
        delivered=delivered,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
        samples=len(latencies_ms),
    )


def max_sustained(steps: Sequence[Step]) -> float | None:
    """Achieved deliveries/s of the last sustained step before the first one that was not (steps rise)."""
    best = None
    for step in steps:
        if not step.sustained:
            break
        best = step.achieved
    return best


def efficiency(steps: Sequence[Step]) -> float | None:
    """Deliveries per server CPU-second at the max sustained step (the first step when none was sustained)."""
    chosen = None
    for step in steps:
        if not step.sustained:
            break
        chosen = step
    chosen = chosen or (steps[0] if steps else None)
    return chosen.per_cpu_second if chosen else None


def step_near(steps: Sequence[Step], offered: float) -> Step | None:
    """The step whose offered rate is closest to ``offered`` (within 10%), or None."""
    near = [s for s in steps if abs(s.offered - offered) <= 0.1 * offered]
    return min(near, key=lambda s: abs(s.offered - offered)) if near else None


def ratio(value: float | None, ceiling: float | None) -> float | None:
    """``value / ceiling`` when both are known and the ceiling is positive."""
    if value is None or not ceiling:
        return None
    return value / ceiling
