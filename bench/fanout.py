"""Run one fan-out stack: flush Redis, start the server pinned, run the load generator, stop the server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import procs, venvs
from bench.stacks import Stack

ROOT = venvs.ROOT


#: Past the listed steps the rate keeps rising by this factor up to ``RATE_CAP``: every stack stops at its
#: first step that is not sustained, so its row ends with what stopped it, not with "top step passed".
RATE_FACTOR = 1.25
RATE_CAP = 4_000_000.0


def default_rates() -> list[float]:
    """Offered deliveries/s, rising until a hard cap far above any stack measured here.

    Starts at 5,000/s: the slowest stack (Django Channels) sustains that and no stack has failed below it,
    so lower steps only cost time. 20k is always one of them (the latency comparison point). Up to 100k the
    steps are 2x, then 1.5x, then 1.25x (30k and 50k were dropped to fit make bench's 8 minutes).
    """
    rates = [5_000.0, 10_000.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0, 100_000.0]
    while rates[-1] * RATE_FACTOR <= RATE_CAP:
        rates.append(float(round(rates[-1] * RATE_FACTOR, -4)))
    return rates


def run_loadgen(
    spec: dict[str, Any], work: Path, name: str, timeout: float, core: int | None = procs.CLIENT_CORE
) -> dict[str, Any]:
    """Run ``bench.loadgen`` on ``core`` (None: any core) with ``spec``; return its JSON result."""
    spec_path = work / f"{name}.spec.json"
    spec_path.write_text(json.dumps(spec))
    argv = [sys.executable, "-m", "bench.loadgen", str(spec_path)]
    if core is not None:
        argv = procs.pinned(core, argv)
    elif procs.pinning():  # the harness is pinned and children inherit it: every core, explicitly
        argv = ["taskset", "-c", ",".join(str(c) for c in range(os.cpu_count() or 1)), *argv]
    done = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, timeout=timeout, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed with {done.returncode}")
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def run_peer(stack: Stack, redis: procs.Redis, work: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Start peer ``stack`` and measure it; the result holds the load generator's output and versions."""
    redis.flush()
    port = procs.free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": redis.url, "PYTHONUNBUFFERED": "1"}
    if stack.runtime == "node":
        env["NODE_PATH"] = str(venvs.ensure_node(stack.peer or ""))
        interpreter = shutil.which("node") or "node"
        versions = venvs.node_versions(stack.peer or "", stack.packages)
    else:
        interpreter = str(venvs.ensure(stack.peer or ""))
        versions = venvs.installed_versions(stack.peer or "", stack.packages)
    log = work / f"{stack.key}.log"
    # cwd is the peer's own folder: `python -m` puts cwd first on sys.path, and the repository root has a
    # `channels/` package (Social Flow's) that would shadow Django Channels.
    proc = procs.start(
        [interpreter, *stack.argv(port)], env, log, procs.SERVER_CORE, cwd=venvs.PEERS / (stack.peer or "")
    )
    result: dict[str, Any] = {"key": stack.key, "label": stack.label, "through_redis": stack.through_redis}
    result["versions"] = versions
    try:
        procs.wait_port(port, proc, timeout=30)
        time.sleep(0.5)
        spec = {
            "host": "127.0.0.1",
            "port": port,
            "ws_path": stack.ws_path,
            "publish": stack.publish,
            "scripts": stack.scripts,
            "server_pid": proc.pid,
            **settings,
        }
        result.update(run_loadgen(spec, work, stack.key, timeout=settings["deadline_seconds"] + 60))
    except Exception as exc:  # one stack failing must not sink the others; the table says why
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        procs.stop(proc)
    return result
