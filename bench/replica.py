"""Reads past one PostgreSQL: the home feed on the primary only vs routed to one streaming replica.

Run by ``make bench`` inside the Social Flow part, after the feed and celebrity runs, on the same seeded
database and the same seeded readers (``python -m bench.replica`` runs it alone on a fresh small seed):

1. a hot standby of the primary is made with the embedded wheel's ``pg_basebackup``
   (``tests/support/pg_replica.py``, the fixture the replica tests use);
2. **primary only**: the server restarted (no ``DATABASE_REPLICA_URLS``), open-loop home feed reads at
   rising rates until a step is not sustained;
3. **routed**: the same server restarted with ``DATABASE_REPLICA_URLS`` = the standby, the same steps;
   ``socialflow_db_replica_reads_total`` (``/metrics``) says which share of the reads the replica took;
4. **lag**: on the routed server two readers post while the others read at a fixed rate; each post's row
   is polled on the standby until it is there (lag = from the 201 to visible), and the writer reads its
   own posts at once (read-your-writes keeps it on the primary until the replica has the write).

Per step the load generator also records the CPU share of both PostgreSQL process trees (postmaster and
backends) and each core's busy share, so the summary can say what bounds the result. Layout as in the
rest of the bench: the app on core 0; load generator, Redis, primary and replica on core 1 (the replica
competes with the primary for that one core).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import fanout, procs
from bench.report import steps_of
from bench.stats import efficiency, max_sustained, step_near

#: Offered home feed reads/s rise by this factor from 0.4x the feed run's max sustained (or from 300 req/s),
#: up to a cap far past any one worker: each layout stops at its first step that is not sustained. The
#: freshly restarted servers of this step sustain ~0.5-0.75x what the feed run's warm one did (0.6x left
#: both layouts with no sustained step once the feed run reached 1,200 req/s).
FACTOR = 1.25
START_SHARE = 0.4
CAP = 40_000.0
PHASE_SECONDS = 15.0  # per layout: the step's share of make bench's 8 minutes (reported as "deadline" if hit)
STEP_SECONDS = 1.5
LAG_SECONDS = 3.0
LAG_WRITE_RATE = 20.0  # posts/s by the writers during the lag phase
LAG_READ_SHARE = 0.5  # the lag phase's read rate, as a share of the routed run's max sustained
WRITERS = 2  # of the seeded readers, who post during the lag phase (the others read)
REASONS = (("replica", "fit"), ("primary", "written"), ("primary", "unavailable"), ("primary", "fallback"))


def _postmaster(pgdata: Path) -> int:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _routed(server: Any, token: str) -> dict[str, float]:
    """``socialflow_db_replica_reads_total`` by ``target/reason``, scraped from the server's ``/metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = server.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    out = {f"{t}/{r}": 0.0 for t, r in REASONS}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            if s.name == "socialflow_db_replica_reads_total":
                out[f"{s.labels['target']}/{s.labels['reason']}"] = s.value
    return out


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    return {k: round(after.get(k, 0.0) - before.get(k, 0.0)) for k in after}


def _restart(server: Any, env: dict[str, str], tag: str) -> None:
    """The server process again, same port and database, with ``env`` added."""
    from bench.socialflow import ROOT

    procs.stop(server.proc)
    argv = [sys.executable, "-m", "server", "serve"]
    # server.env stays as it was: what runs after this step (the app nodes) must not inherit the replica.
    env = {**server.env, **env}
    server.proc = procs.start(argv, env, server.work / f"social_flow_{tag}.log", procs.SERVER_CORE, cwd=ROOT)
    server._wait_healthy()


def rates(feed_best: float | None) -> list[float]:
    """The offered rates: from ``START_SHARE`` of the feed run's max sustained (steps far below it say nothing)."""
    rate = max(100.0, round(START_SHARE * feed_best, -1)) if feed_best else 300.0
    out = []
    while rate <= CAP:
        out.append(rate)
        rate = round(rate * FACTOR, -1)
    return out


def _steps(
    server: Any, work: Path, name: str, readers: list[dict[str, str]], watch: dict[str, int], offered: list[float]
) -> dict[str, Any]:
    from bench.socialflow import feed_spec

    procs.wait_idle(server.proc.pid)
    spec = {
        **feed_spec(server.port, "/api/v1/feeds/home", {}),
        "rates": offered,
        "step_seconds": STEP_SECONDS,
        "header_sets": readers,
        "server_pid": server.proc.pid,
        "watch_pids": {k: v for k, v in watch.items() if v},
        "deadline_seconds": PHASE_SECONDS,
    }
    return fanout.run_loadgen(spec, work, name, timeout=120)


def run(server: Any, work: Path, readers: list[dict[str, str]], feed_best: float | None = None) -> dict[str, Any]:
    """Both layouts and the lag phase on ``server`` (a ``bench.socialflow.Server``); see the module docstring."""
    from tests.support.pg_replica import StreamingReplica

    if len(readers) <= WRITERS:
        return {"pending": f"needs more than {WRITERS} logged-in readers (the seeding CLI's)"}
    t0 = time.monotonic()
    out: dict[str, Any] = {}
    primary_pid = _postmaster(server.embedded.pgdata) if server.embedded is not None else 0
    standby = StreamingReplica(server.env["DATABASE_URL"])
    try:
        standby.create()
        out["setup_seconds"] = time.monotonic() - t0
        watch = {"primary": primary_pid, "replica": _postmaster(standby.pgdata)}
        # Both layouts on a freshly started server, so neither has the other's warm process.
        _restart(server, {}, "replica_off")
        print("[bench] home feed, reads on the primary only", file=sys.stderr, flush=True)
        offered = rates(feed_best)
        out["primary"] = _steps(server, work, "replica_off", readers, watch, offered)
        token = "bench-metrics-" + str(server.port)
        _restart(server, {"DATABASE_REPLICA_URLS": standby.url, "METRICS_TOKEN": token}, "replica_on")
        print("[bench] home feed, reads routed to one streaming replica", file=sys.stderr, flush=True)
        before = _routed(server, token)
        out["replica"] = _steps(server, work, "replica_on", readers, watch, offered)
        out["routed"] = _delta(before, _routed(server, token))
        best = max_sustained(steps_of(out["replica"])) or offered[0]
        writers = [
            {"headers": h, "username": server.http.get("/api/v1/auth/me", headers=h).json()["username"]}
            for h in readers[:WRITERS]
        ]
        procs.wait_idle(server.proc.pid)
        print("[bench] replica lag under a write load", file=sys.stderr, flush=True)
        before = _routed(server, token)
        spec = {
            "mode": "replica_lag",
            "host": "127.0.0.1",
            "port": server.port,
            "read_path": "/api/v1/feeds/home",
            "header_sets": readers[WRITERS:],
            "writers": writers,
            "replica_url": standby.url,
            "read_rate": round(best * LAG_READ_SHARE),
            "write_rate": LAG_WRITE_RATE,
            "seconds": LAG_SECONDS,
        }
        out["lag"] = fanout.run_loadgen(spec, work, "replica_lag", timeout=60)
        out["lag"]["routed"] = _delta(before, _routed(server, token))
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        procs.stop(server.proc)  # before its replica goes; the caller's Server.stop() stops the primary
        standby.destroy()
    out["seconds"] = time.monotonic() - t0
    return out


def _raw(result: dict[str, Any], offered: float) -> dict[str, Any]:
    return next((s for s in result.get("steps", []) if s["offered"] == offered), {})


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def summary(result: dict[str, Any]) -> list[str]:
    """The replica step in a few lines: both layouts, where reads went, database CPU, lag, and what bounds it."""
    if "replica" not in result or "steps" not in result.get("replica", {}):
        return [str(result.get("pending") or result.get("error") or "not run")]
    from bench.report import _limit, _n

    lines = []
    both = [s for s in steps_of(result["replica"]) if s.sustained]
    common = [s.offered for s in steps_of(result["primary"]) if s.sustained and s.offered in {b.offered for b in both}]
    rate = max(common) if common else steps_of(result["primary"])[0].offered
    for key, label in (("primary", "reads on the primary only"), ("replica", "reads routed to one streaming replica")):
        steps = steps_of(result[key])
        at = step_near(steps, rate)
        best, eff = max_sustained(steps), efficiency(steps)
        lines.append(
            f"home feed, {label}: max sustained {_n(best)} req/s ({_n(eff)} per server CPU-s), p50 / p99 at "
            f"{rate:,.0f} req/s {_ms(at.p50_ms if at else None)} / {_ms(at.p99_ms if at else None)} ms; "
            f"stopped by {_limit(steps[-1], result[key])}"
        )
    routed = result.get("routed", {})
    total = sum(routed.values())
    if total:
        lines.append(
            f"reads the replica took: {routed.get('replica/fit', 0) / total:.0%} ({routed.get('replica/fit', 0):,} of "
            f"{total:,}; on the primary: {routed.get('primary/written', 0)} read-your-writes, "
            f"{routed.get('primary/unavailable', 0)} no replica fit, {routed.get('primary/fallback', 0)} fallbacks)"
        )
    if common:
        off, on = _raw(result["primary"], rate), _raw(result["replica"], rate)
        cpu_off, cpu_on = off.get("watched_cpu", {}), on.get("watched_cpu", {})
        if "primary" in cpu_off:
            lines.append(
                f"PostgreSQL CPU at {rate:,.0f} req/s (share of a core): primary alone {cpu_off['primary']:.0%}; "
                f"routed: primary {cpu_on.get('primary', 0):.0%}, replica {cpu_on.get('replica', 0):.0%}"
            )
    lag = result.get("lag") or {}
    if "lag_p50_ms" in lag:
        lag_routed = lag.get("routed", {})
        lines.append(
            f"replica lag, {lag['write_rate']:.0f} posts/s while others read {lag['read_rate']:,} req/s for "
            f"{lag.get('load_seconds', lag['seconds']):.0f} s: a post visible on the replica p50 "
            f"{_ms(lag['lag_p50_ms'])} ms, p99 "
            f"{_ms(lag['lag_p99_ms'])} ms, max {_ms(lag['lag_max_ms'])} ms after its 201 ({lag['writes']} posts, "
            f"{lag['unseen']} not seen within 10 s); the writer read its own post at once "
            f"{lag['own_read_ok']}/{lag['own_read_ok'] + lag['own_read_missing']} (read-your-writes: "
            f"{lag_routed.get('primary/written', 0)} reads kept on the primary, "
            f"{lag_routed.get('replica/fit', 0)} to the replica); readers' p99 {_ms(lag['read_p99_ms'])} ms"
        )
    elif lag.get("error"):
        lines.append(f"replica lag: {lag['error']}")
    lines.append(_bound(result))
    return lines


def _bound(result: dict[str, Any]) -> str:
    """What limited the routed run, from its last step's server CPU and the cores' busy shares."""
    raw = (result["replica"].get("steps") or [{}])[-1]
    rate, server = raw.get("offered", 0.0), raw.get("server_cpu", 0.0)
    cores = raw.get("cores") or []
    other = max(cores[1:], default=0.0)
    if cores and cores[0] >= 0.9 and server < 0.8:
        return (
            f"What bounds it: nothing this run can name: the app's core was {cores[0]:.0%} busy but the app got "
            f"{server:.0%} of it at {rate:,.0f} req/s, so other work shared its core (a busy machine); rerun idle."
        )
    if server >= 0.9:
        return (
            f"What bounds it: the one app worker's core (server {server:.0%} at {rate:,.0f} req/s): the feed's own "
            "CPU per request sets the rate, so a replica cannot raise req/s here; it moves the reads' database work "
            "off the primary. A replica pays when the primary is the limit (many workers on more cores)."
        )
    if other >= 0.9:
        return (
            f"What bounds it: core 1 ({other:.0%} busy at {rate:,.0f} req/s), which runs the load generator, Redis, "
            "the primary and the replica together: on this 2-core box the replica adds no cores, so routed reads "
            "cannot outrun the primary alone."
        )
    return (
        f"What bounds it: neither core was full at {rate:,.0f} req/s (app core {server:.0%}, busiest other "
        f"{other:.0%}); the step failed on latency, not on a saturated process."
    )


def main(argv: list[str] | None = None) -> int:
    """Alone: Redis, an embedded PostgreSQL, the server, the seeding CLI (``BENCH_SEED_ARGS``), then the step."""
    import json

    from bench import socialflow

    parser = argparse.ArgumentParser(prog="python -m bench.replica", description=__doc__)
    parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sf-bench-replica-"))
    if procs.pinning():
        import os

        os.sched_setaffinity(0, {procs.CLIENT_CORE})
    redis = procs.Redis(work)
    try:
        server = socialflow.Server(redis, work)
        try:
            readers, data_set = socialflow.seed_cli(server)
            print(f"[bench] {data_set}", file=sys.stderr, flush=True)
            result = run(server, work, readers)
        finally:
            server.stop()
    finally:
        redis.stop()
    print(json.dumps(result)[:2000], file=sys.stderr)
    for line in summary(result):
        print(line)
    print(f"[bench] logs in {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
