"""Past one Redis with whole app nodes: 3 ``python -m server serve`` processes on one Valkey, then on a 3-shard
Valkey Cluster, fan-out through the contract (publish API -> Redis -> each node's gateway -> sockets).

Run by ``make bench`` at the end of the Social Flow part, on its database (the nodes need it for accounts and
sessions) after its server has stopped. 1,000 sockets are spread over the three nodes (333 each) on
``timeline:public``; the load generator publishes round-robin through the three nodes' publish API at rising
rates, so every publication reaches all three nodes through Redis. Every process of this step (nodes, Valkey,
load generator) may use both cores; per step the load generator records the CPU share of the Valkey
server(s), of the nodes and each core's busy share, so the summary says whether Redis was the bottleneck.
``bench/scaleout.py`` is the same question without sockets (bare brokers): ``python -m bench.scaleout``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import fanout, procs, venvs, wire
from bench.stats import max_sustained

NODES = 3
SOCKETS = 1000
CHANNEL = "timeline:public"
RATE_FACTOR = 1.5
FIRST_RATE = 110_000.0  # both layouts sustained 244k-564k in every run so far: lower steps only cost time
RATE_CAP = 4_000_000.0
DEADLINE = 20.0  # seconds of rising steps per layout: this step's share of make bench's 8 minutes


def rates() -> list[float]:
    out = [FIRST_RATE]
    while out[-1] * RATE_FACTOR <= RATE_CAP:
        out.append(float(round(out[-1] * RATE_FACTOR, -3)))
    return out


def _every_core() -> str:
    return ",".join(str(c) for c in range(os.cpu_count() or 1))


def _unpin(pid: int) -> None:
    try:
        os.sched_setaffinity(pid, set(range(os.cpu_count() or 1)))
    except (AttributeError, OSError):
        pass


Node = tuple[subprocess.Popen[bytes], int]  # the process and its port


def _start_nodes(env: dict[str, str], redis_url: str, work: Path, tag: str) -> list[Node]:
    from bench.socialflow import ROOT

    nodes = []
    for i in range(NODES):
        port = procs.free_port()
        node_env = {**env, "PORT": str(port), "REDIS_URL": redis_url, "WORKERS": "1"}
        argv = [sys.executable, "-m", "server", "serve"]
        if procs.pinning():
            argv = ["taskset", "-c", _every_core(), *argv]
        with (work / f"node_{tag}_{i}.log").open("wb") as log:  # the child keeps its own copy of the fd
            proc = subprocess.Popen(argv, env=node_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603
        nodes.append((proc, port))
    try:
        for proc, port in nodes:
            procs.wait_port(port, proc, timeout=120)
    except BaseException:
        for proc, _ in nodes:
            procs.stop(proc)
        raise
    return nodes


def _layout(
    env: dict[str, str], redis_url: str, redis_pids: list[int], users: list[dict[str, str]], work: Path, tag: str
) -> dict[str, Any]:
    nodes = _start_nodes(env, redis_url, work, tag)
    try:
        for pid in redis_pids:
            _unpin(pid)
        scripts = [wire.auth_subscribe_script(u["token"], CHANNEL) for u in users]
        spec = {
            "host": "127.0.0.1",
            "port": nodes[0][1],
            "ports": [port for _, port in nodes],
            "server_pids": [proc.pid for proc, _ in nodes],
            "watch_pids": {"redis": redis_pids},
            "ws_path": "/api/v1/ws",
            "publish": {
                "kind": "http",
                "path": "/api/v1/realtime/publish",
                "headers": {"X-API-Key": env["REALTIME_API_KEY"]},
                "envelope": {"channel": CHANNEL, "event": "bench.tick"},
            },
            "scripts": scripts,
            "sockets": SOCKETS,
            "probes": 50,
            "step_seconds": 1.5,
            "rates": rates(),
            "deadline_seconds": DEADLINE,
        }
        return fanout.run_loadgen(spec, work, f"nodes_{tag}", timeout=DEADLINE + 90, core=None)
    finally:
        for proc, _ in nodes:
            procs.stop(proc)


def run(env: dict[str, str], work: Path) -> dict[str, Any]:
    """Both layouts with ``env`` (the Social Flow server's: database, secrets); ``{"single": ..., "cluster": ...}``."""
    from tests.support.valkey_cluster import LocalCluster

    t0 = time.monotonic()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.sf_users", "4", f"n{secrets.token_hex(2)}_"],
        env={**env, "PYTHONPATH": str(venvs.ROOT)},
        cwd=venvs.ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        return {"error": f"socket users: {done.stderr[-300:]}"}
    users = json.loads(done.stdout.strip().splitlines()[-1])
    out: dict[str, Any] = {}
    single = procs.Redis(Path(tempfile.mkdtemp(prefix="sf-nodes-")))
    try:
        print("[bench] 3 app nodes on one Valkey", file=sys.stderr, flush=True)
        out["single"] = _layout(env, single.url, [single.proc.pid], users, work, "single")
    except Exception as exc:
        out["single"] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        single.stop()
    cluster = LocalCluster(shards=3)
    try:
        url = cluster.start()
        print("[bench] 3 app nodes on a 3-shard Valkey Cluster", file=sys.stderr, flush=True)
        pids = [p.pid for p in cluster.procs if p is not None]
        out["cluster"] = _layout(env, url, pids, users, work, "cluster")
    except Exception as exc:
        out["cluster"] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        cluster.stop()
    out["seconds"] = time.monotonic() - t0
    return out


def _top(result: dict[str, Any]) -> dict[str, Any]:
    """The raw step that decided the layout's figure: the first one not sustained (else the last)."""
    steps = result.get("steps") or [{}]
    return next((s for s in steps if not s.get("sustained")), steps[-1])


def _layout_text(name: str, result: dict[str, Any]) -> str:
    if "steps" not in result:
        return f"{name}: {result.get('error') or result.get('pending') or 'not run'}"
    from bench.report import _limit, _n, steps_of

    steps = steps_of(result)
    best = max_sustained(steps)
    top = _top(result)
    redis = (top.get("watched_cpu") or {}).get("redis", 0.0)
    cores = " / ".join(f"{c:.0%}" for c in top.get("cores", []))
    shards = " (its shards together)" if "cluster" in name else ""
    return (
        f"{name} {_n(best)} deliveries/s max sustained (stopped by {_limit(steps[-1], result)}; at that step "
        f"Valkey {redis:.0%} of a core{shards}, the 3 nodes {top.get('server_cpu', 0):.0%}, load generator "
        f"{top.get('client_cpu', 0):.0%}, cores busy {cores})"
    )


def summary(result: dict[str, Any]) -> str:
    """One paragraph: both layouts, their ratio, and whether one Redis was the bottleneck."""
    if "single" not in result:
        return str(result.get("error") or "not run")
    one, three = result["single"], result.get("cluster", {})
    text = (
        f"{NODES} app nodes (publish API -> Redis -> gateways -> {SOCKETS:,} sockets): "
        f"{_layout_text('one Valkey', one)}; {_layout_text('3-shard cluster', three)}"
    )
    if "steps" not in one or "steps" not in three:
        return text + "."
    from bench.report import steps_of

    a, b = max_sustained(steps_of(one)), max_sustained(steps_of(three))
    text += f": {b / a:.2f}x." if a and b else "."
    top = _top(one)
    redis = (top.get("watched_cpu") or {}).get("redis", 0.0)
    cores = top.get("cores") or [0.0]
    ours = redis + top.get("server_cpu", 0.0) + top.get("client_cpu", 0.0)
    if ours < 0.75 * sum(cores):
        return text + (
            f" Not conclusive: this step's processes got {ours:.0%} of a core while the {len(cores)} cores were "
            f"{sum(cores):.0%} busy, so other work on the machine set these rates; rerun on an idle machine."
        )
    if redis >= 0.85:
        return text + f" One Valkey was the bottleneck (its one thread at {redis:.0%} of a core)."
    return text + (
        f" One Valkey was not the bottleneck: at the step where it stopped it used {redis:.0%} of a core while the "
        f"cores were {min(cores):.0%}-{max(cores):.0%} busy with the nodes and the load generator; on "
        f"{len(cores)} cores a cluster's shards only take CPU from them, so its gain cannot show on this machine."
    )
