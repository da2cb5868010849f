"""The home feed with ads on: the same server and load as the plain feed run, after 1,000 active campaigns.

``measure`` runs after the feed run (ads off: no campaign exists), inserts the campaigns, waits until
a reader's home page carries an ad, then replays the same load-generator spec. The report compares the
two: the issue's goal is at most 2 ms more at p99 and at most 10 % fewer sustained requests per second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench import fanout, procs, venvs

CAMPAIGNS = 1000


def seed(server: Any, count: int) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.sf_ads", str(count)],
        env={**server.env, "PYTHONPATH": str(venvs.ROOT)},
        cwd=venvs.ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"campaign seeding failed: {done.stderr[-500:]}")
    json.loads(done.stdout.strip().splitlines()[-1])


def wait_for_ads(server: Any, headers: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = server.http.get("/api/v1/feeds/home", params={"limit": 20}, headers=headers)
        if page.status_code == 200 and page.json().get("ads"):
            return
        time.sleep(0.5)
    raise TimeoutError("no ad reached the home feed after seeding campaigns")


def measure(server: Any, work: Any, spec: dict[str, Any], count: int = CAMPAIGNS) -> dict[str, Any]:
    """The feed run again with ``count`` active campaigns; the load generator's result."""
    if server.has("/api/v1/ads/impressions"):
        return {"pending": "needs the ads endpoints on main"}
    seed(server, count)
    wait_for_ads(server, spec["header_sets"][0])
    procs.wait_idle(server.proc.pid)
    print(f"[bench] home feed with ads ({count} campaigns)", file=sys.stderr, flush=True)
    out = fanout.run_loadgen(spec, work, "feed_ads", timeout=120)
    out["campaigns"] = count
    return out


def compare(off: dict[str, Any], on: dict[str, Any] | None) -> str:
    """One line: p99 at 300 req/s and max sustained req/s, ads off against on, against the issue's goal."""
    from bench.report import steps_of
    from bench.stats import max_sustained, step_near

    if not on or "steps" not in on or "steps" not in off:
        return f"pending ({(on or {}).get('pending') or (on or {}).get('error') or 'not run'})"
    a, b = steps_of(off), steps_of(on)
    at_a, at_b = step_near(a, 300.0), step_near(b, 300.0)
    best_a, best_b = max_sustained(a), max_sustained(b)
    if at_a is None or at_b is None or not best_a or not best_b:
        return "not comparable (a run stopped before 300 req/s)"
    added = at_b.p99_ms - at_a.p99_ms
    fewer = 100 * (1 - best_b / best_a)
    ok = added <= 2.0 and fewer <= 10.0
    return (
        f"{'met' if ok else 'missed'}: p99 at 300 req/s {at_a.p99_ms:.1f} -> {at_b.p99_ms:.1f} ms ({added:+.1f} ms, "
        f"goal <= +2 ms); max sustained {best_a:.0f} -> {best_b:.0f} req/s ({fewer:+.1f} % fewer, goal <= 10 %)"
    )
