"""The benchmark's rate ladders reach past every stack, and its scale-out texts say what bounded a run."""

from __future__ import annotations

import itertools
from collections import namedtuple
from typing import Any

from bench import replica, scaleout
from bench.fanout import RATE_CAP, default_rates
from bench.loadgen import busy_shares
from bench.report import _limit
from bench.socialflow import feed_rates
from bench.stats import Step


def test_fanout_rates_rise_from_the_slowest_stack_to_far_past_the_fastest() -> None:
    rates = default_rates()
    assert rates[0] == 5_000 and 20_000 in rates  # 20k: the latency comparison point
    assert all(a < b for a, b in itertools.pairwise(rates))
    assert rates[-1] <= RATE_CAP and rates[-1] >= 2_000_000  # 5x the fastest stack's last ceiling (400k)


def test_feed_rates_hold_the_goal_rate_and_reach_past_a_bare_endpoint() -> None:
    rates = feed_rates()
    assert 300 in rates and rates[0] == 100
    assert all(a < b for a, b in itertools.pairwise(rates))
    assert rates[-1] >= 20_000  # the bare Litestar endpoint passed 4,000 req/s


def test_replica_rates_start_below_the_feed_runs_ceiling() -> None:
    assert replica.rates(None)[0] == 300
    assert replica.rates(2000)[0] == 800  # START_SHARE (0.4) of the feed run's 2,000 req/s
    assert replica.rates(100)[0] == 100
    for rates in (replica.rates(None), replica.rates(2000)):
        assert all(a < b for a, b in itertools.pairwise(rates)) and rates[-1] <= replica.CAP


Times = namedtuple("Times", "user nice system idle iowait")


def test_busy_shares_per_core() -> None:
    before = [Times(0, 0, 0, 0, 0), Times(10, 0, 0, 10, 0)]
    after = [Times(3, 0, 1, 4, 0), Times(10, 0, 0, 18, 2)]
    assert busy_shares(before, after) == [0.5, 0.0]


def _step(offered: float, delivered: int, p99: float, client: float = 0.3) -> Step:
    return Step(offered, 1.0, 1000, delivered, 1.0, p99, 50, client_cpu=client, server_cpu=0.99)


def test_the_stopped_by_text_names_a_full_load_generator_core() -> None:
    assert _limit(_step(9000, 1000, 900.0, client=0.99), {}) == "p99 900 ms at 9,000/s (load generator core 99%)"
    assert _limit(_step(9000, 500, 10.0), {}) == "50% delivered at 9,000/s"
    assert _limit(_step(9000, 1000, 10.0), {}) == "top step passed"


def _http_step(offered: float, ok: bool, server: float, cores: list[float], db: dict[str, float]) -> dict[str, Any]:
    return {
        "offered": offered, "seconds": 1.0, "expected": int(offered), "delivered": int(offered if ok else offered / 2),
        "p50_ms": 2.0, "p99_ms": 9.0 if ok else 900.0, "samples": int(offered), "client_cpu": 0.2,
        "server_cpu": server, "per_cpu_second": 400.0, "cores": cores, "watched_cpu": db,
    }  # fmt: skip


def _replica_result(server_at_top: float, cores_at_top: list[float]) -> dict[str, Any]:
    off_ok = _http_step(300, True, 0.6, [0.6, 0.5], {"primary": 0.30, "replica": 0.0})
    off_top = _http_step(380, False, 0.99, [1.0, 0.6], {"primary": 0.35, "replica": 0.0})
    on_ok = _http_step(300, True, 0.6, [0.6, 0.5], {"primary": 0.02, "replica": 0.28})
    on_top = _http_step(380, False, server_at_top, cores_at_top, {"primary": 0.02, "replica": 0.3})
    primary, routed = {"steps": [off_ok, off_top]}, {"steps": [on_ok, on_top]}
    lag = {
        "seconds": 6.0, "load_seconds": 4.0, "read_rate": 150, "write_rate": 20.0, "read_p99_ms": 12.0,
        "lag_p50_ms": 1.0, "lag_p99_ms": 3.0, "lag_max_ms": 4.0, "writes": 80, "unseen": 0,
        "own_read_ok": 80, "own_read_missing": 0, "routed": {"primary/written": 60, "replica/fit": 540},
    }  # fmt: skip
    routed_counts = {"replica/fit": 900, "primary/written": 0, "primary/unavailable": 100, "primary/fallback": 0}
    return {"primary": primary, "replica": routed, "routed": routed_counts, "lag": lag}


def test_replica_summary_gives_both_layouts_the_replicas_share_database_cpu_and_lag() -> None:
    text = "\n".join(replica.summary(_replica_result(0.99, [1.0, 0.6])))
    assert "reads on the primary only: max sustained 300 req/s" in text
    assert "reads routed to one streaming replica: max sustained 300 req/s" in text
    assert "the replica took: 90% (900 of 1,000" in text
    assert "primary alone 30%; routed: primary 2%, replica 28%" in text
    assert "p50 1.0 ms, p99 3.0 ms, max 4.0 ms after its 201 (80 posts, 0 not seen" in text
    assert "own post at once 80/80" in text


def test_replica_summary_says_what_bounds_the_routed_run() -> None:
    assert "the one app worker's core" in replica.summary(_replica_result(0.99, [1.0, 0.6]))[-1]
    assert "core 1 (97% busy" in replica.summary(_replica_result(0.7, [0.7, 0.97]))[-1]
    assert "other work shared its core" in replica.summary(_replica_result(0.2, [1.0, 1.0]))[-1]
    assert "neither core was full" in replica.summary(_replica_result(0.5, [0.5, 0.5]))[-1]
    assert replica.summary({"error": "CalledProcessError: pg_basebackup"}) == ["CalledProcessError: pg_basebackup"]


def _layout(deliveries: float, redis: list[float], nodes: float, publishers: float) -> dict[str, Any]:
    return {"deliveries_per_s": deliveries, "publishes_per_s": deliveries / 3, "redis_cpu": redis,
            "nodes_cpu": nodes, "publishers_cpu": publishers, "cores": [1.0, 1.0]}  # fmt: skip


def test_scaleout_verdict_reads_the_redis_servers_cpu() -> None:
    busy = {"single": _layout(9000, [0.95], 0.7, 0.3), "cluster": _layout(12000, [0.4, 0.4, 0.4], 0.6, 0.3)}
    assert scaleout.verdict(busy).startswith("One Valkey was the bottleneck")
    idle = {"single": _layout(9000, [0.3], 1.2, 0.45), "cluster": _layout(7000, [0.2, 0.2, 0.2], 1.1, 0.4)}
    assert scaleout.verdict(idle).startswith("One Valkey was not the bottleneck: it used 30% of a core")
    crowded = {"single": _layout(2000, [0.04], 0.1, 0.2), "cluster": _layout(1000, [0.02] * 3, 0.1, 0.2)}
    assert scaleout.verdict(crowded).startswith("Not conclusive")
    assert "0.78x" in scaleout.summary(idle) and "shards 20% + 20% + 20%" in scaleout.summary(idle)


def _nodes_step(offered: float, ok: bool, redis: float, nodes: float, client: float) -> dict[str, Any]:
    return {
        "offered": offered, "seconds": 1.0, "expected": int(offered), "delivered": int(offered if ok else offered / 2),
        "p50_ms": 2.0, "p99_ms": 9.0, "samples": 100, "client_cpu": client, "server_cpu": nodes,
        "cores": [1.0, 1.0], "watched_cpu": {"redis": redis}, "sustained": ok,
    }  # fmt: skip


def test_app_nodes_summary_names_the_bottleneck_from_the_failing_step() -> None:
    from bench import scaleout_nodes

    assert scaleout_nodes.rates()[0] == scaleout_nodes.FIRST_RATE and scaleout_nodes.rates()[-1] >= 2_000_000
    saturated = {"steps": [_nodes_step(50_000, True, 0.5, 1.0, 0.5), _nodes_step(75_000, False, 0.95, 0.6, 0.4)]}
    spread = {"steps": [_nodes_step(50_000, True, 0.2, 1.1, 0.5), _nodes_step(75_000, True, 0.3, 1.2, 0.5),
                        _nodes_step(112_000, False, 0.3, 1.2, 0.5)]}  # fmt: skip
    text = scaleout_nodes.summary({"single": saturated, "cluster": spread})
    assert "one Valkey 50,000 deliveries/s max sustained" in text and ": 1.50x." in text
    assert text.endswith("One Valkey was the bottleneck (its one thread at 95% of a core).")
    text = scaleout_nodes.summary({"single": spread, "cluster": saturated})
    assert "One Valkey was not the bottleneck: at the step where it stopped it used 30% of a core" in text
    crowded = {"steps": [_nodes_step(50_000, False, 0.01, 0.2, 0.06)]}
    assert "Not conclusive" in scaleout_nodes.summary({"single": crowded, "cluster": crowded})
    assert "3-shard cluster: ConnectionError" in scaleout_nodes.summary(
        {"single": spread, "cluster": {"error": "ConnectionError"}}
    )
