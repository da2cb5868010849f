"""The benchmark harness's own logic: percentiles, the sustained-rate rule, and frame counting."""

from __future__ import annotations

import time

import pytest

from bench.stats import Step, is_sustained, max_sustained, percentile, ratio, step_near, summarize
from bench.wire import Tally, WSClient, encode_frame


def server_frame(payload: bytes) -> bytes:
    """An unmasked server text frame, as a server sends it."""
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload


def step(offered: float, delivered: int, p99: float | None, expected: int = 1000) -> Step:
    return Step(offered, 1.0, expected, delivered, p50_ms=1.0, p99_ms=p99, samples=50)


def test_percentile_is_nearest_rank_on_unsorted_input() -> None:
    values = list(range(100, 0, -1))  # 1..100, reversed
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_percentile_p99_sees_a_single_slow_outlier_in_fifty() -> None:
    assert percentile([1.0] * 49 + [900.0], 99) == 900.0
    assert percentile([1.0] * 49 + [900.0], 50) == 1.0


@pytest.mark.parametrize("q", [0, -1, 101])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], q)


@pytest.mark.parametrize(
    ("delivered", "expected", "p99", "ok"),
    [
        (990, 1000, 249.9, True),
        (1000, 1000, 1.0, True),
        (989, 1000, 10.0, False),  # lost more than 1%
        (1000, 1000, 250.0, False),  # p99 must stay strictly under 250 ms
        (0, 0, 1.0, False),  # nothing published is not a pass
        (1000, 1000, None, False),  # no probe sample, no latency evidence
    ],
)
def test_sustained_rule(delivered: int, expected: int, p99: float | None, ok: bool) -> None:
    assert is_sustained(delivered, expected, p99) is ok
    assert step(1.0, delivered, p99, expected).sustained is ok


def test_max_sustained_stops_at_the_first_failed_step() -> None:
    steps = [step(5_000, 1000, 10), step(10_000, 2000, 20, 2000), step(20_000, 100, 10), step(40_000, 1000, 5)]
    assert max_sustained(steps) == 2000.0  # achieved of the 10k step, not the lucky 40k after a failure
    assert max_sustained([step(5_000, 10, 10)]) is None
    assert max_sustained([]) is None


def test_summarize_and_lookup_of_the_20k_step() -> None:
    s = summarize(20_000, 2.0, 40_000, 39_800, [1.0, 2.0, 3.0, 300.0])
    assert s.achieved == 19_900
    assert (s.p50_ms, s.p99_ms, s.samples) == (2.0, 300.0, 4)
    assert not s.sustained
    assert step_near([step(10_000, 1, 1), s, step(40_000, 1, 1)], 20_000) is s
    assert step_near([step(10_000, 1, 1)], 20_000) is None
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(50.0, None) is None


async def test_client_counts_frames_split_across_reads_and_times_probes() -> None:
    tally = Tally()
    client = WSClient("127.0.0.1", 1, "/ws", [], tally, probe=True)
    sent_at = time.monotonic()
    body = (b'{"ts":%.6f,"seq":1,"pad":"' % sent_at) + b"x" * 150 + b'"}'
    stream = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    stream += server_frame(body) + server_frame(b"2") + server_frame(body)  # "2": engine.io ping, not a delivery
    for i in range(0, len(stream), 7):  # TCP may cut anywhere, even inside a header
        client.data_received(stream[i : i + 7])
    assert client.ready.done()
    assert tally.frames == 2
    assert tally.bytes == 2 * len(body)
    assert len(tally.latencies) == 2
    assert all(0 <= ms < 60_000 for ms in tally.latencies)


def test_client_frames_are_masked_and_decode_back() -> None:
    payload = b'{"type":"ping","id":5}'
    frame = encode_frame(payload)
    assert frame[0] == 0x81 and frame[1] & 0x80  # FIN + text, mask bit set
    n = frame[1] & 0x7F
    mask, masked = frame[2:6], frame[6:]
    assert n == len(payload)
    assert bytes(b ^ mask[i % 4] for i, b in enumerate(masked)) == payload


async def test_open_loop_never_waits_for_earlier_calls() -> None:
    import asyncio
    import itertools

    from bench.wire import open_loop

    stuck = asyncio.Event()  # never set: every call hangs, like requests to a stalled server
    scheduled: list[float] = []

    async def fire(_i: int, at: float) -> None:
        scheduled.append(at)
        await stuck.wait()

    tasks = await open_loop(1000.0, 0.01, fire)
    await asyncio.sleep(0)
    assert len(tasks) == 10  # all ten were started although none finished
    assert all(not t.done() for t in tasks)
    gaps = [b - a for a, b in itertools.pairwise(scheduled)]
    assert all(abs(g - 0.001) < 1e-9 for g in gaps)  # latency is measured from this fixed schedule
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
