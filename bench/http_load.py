"""Open-loop (wrk2-style) HTTP load: requests leave on a fixed schedule, latency counts from that schedule."""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from typing import Any

import psutil

from bench.loadgen import busy_shares, server_cpu_seconds, tree_cpu_seconds
from bench.stats import summarize
from bench.wire import HTTPPool, open_loop


async def run_http(spec: dict[str, Any]) -> dict[str, Any]:
    """GET ``spec["path"]`` at each rate of ``spec["rates"]`` until a step is not sustained."""
    pool = HTTPPool(spec["host"], spec["port"], size=spec.get("connections", 64))
    # Requests rotate over these header sets (one per seeded user), or use the one ``headers``.
    header_sets = spec.get("header_sets") or [spec.get("headers", {})]
    steps: list[dict[str, Any]] = []
    errors: dict[str, int] = {}
    started = time.monotonic()
    # Warm the pool and the server's caches (every reader's) so the first step is not a cold start.
    for i in range(max(20, 2 * len(header_sets))):
        await pool.request("GET", spec["path"], headers=header_sets[i % len(header_sets)])
    for rate in spec["rates"]:
        if time.monotonic() - started > spec.get("deadline_seconds", 60.0):
            break
        latencies: list[float] = []

        async def fire(i: int, at: float, latencies: list[float] = latencies) -> None:
            try:
                status, _ = await pool.request("GET", spec["path"], headers=header_sets[i % len(header_sets)])
            except (OSError, asyncio.IncompleteReadError) as exc:
                status = 0
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if status == 200:
                latencies.append((time.monotonic() - at) * 1000)
            elif status:
                errors[str(status)] = errors.get(str(status), 0) + 1

        t0 = time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime
        server0 = server_cpu_seconds(spec.get("server_pid", 0))
        # Optional process trees to watch (e.g. {"primary": postmaster pid}): their CPU share per step.
        watch = spec.get("watch_pids") or {}
        watched0 = {name: tree_cpu_seconds(pid) for name, pid in watch.items()}
        cores0 = psutil.cpu_times(percpu=True)
        tasks = await open_loop(rate, spec.get("step_seconds", 2.0), fire)
        seconds = time.monotonic() - t0 + 1 / rate
        _, late = await asyncio.wait(tasks, timeout=spec.get("drain_seconds", 2.0))
        for task in late:  # still waiting after the drain: counted as not served
            task.cancel()
        step = summarize(rate, seconds, len(tasks), len(latencies), latencies)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        wall = max(time.monotonic() - t0, 1e-9)
        step.client_cpu = (usage.ru_utime + usage.ru_stime - cpu0) / wall
        server_seconds = server_cpu_seconds(spec.get("server_pid", 0)) - server0
        step.server_cpu = server_seconds / wall
        step.per_cpu_second = len(latencies) / server_seconds if server_seconds > 0 else None
        extra: dict[str, Any] = {"cores": busy_shares(cores0, psutil.cpu_times(percpu=True))}
        if watch:
            extra["watched_cpu"] = {
                name: (tree_cpu_seconds(pid) - watched0[name]) / wall for name, pid in watch.items()
            }
        steps.append({**step.to_dict(), **extra})
        print(
            f"  {rate:>7,.0f} req/s offered  {step.achieved:>7,.0f} ok/s  p50 {step.p50_ms or 0:6.1f} ms  "
            f"p99 {step.p99_ms or 0:6.1f} ms  server cpu {step.server_cpu:.0%}  client cpu {step.client_cpu:.0%}",
            file=sys.stderr,
            flush=True,
        )
        if late:  # cancelled requests closed their connections; give the server a moment to notice
            await asyncio.sleep(0.5)
        if not step.sustained:
            break
    pool.close()
    return {"steps": steps, "errors": errors}
