"""Fan-out past one Redis: 3 broker nodes on one Valkey vs on a 3-shard Valkey Cluster, deliveries/s.

``python -m bench.scaleout [--seconds 8] [--channels 96]``. Each "node" is a process running the realtime
layer's broker as an app node does (``RedisBroker``, or ``ClusterBroker`` for ``redis+cluster://``) and
subscribing to every channel; three publisher processes publish round-robin over the channels as fast
as the broker takes them. Deliveries/s counts what the three nodes' brokers handed to their hubs
(each publication counts once per node). Sockets are left out on purpose: the question is whether
Redis is the bottleneck, and the websocket side is measured by the fan-out run of ``make bench``.

Every process of this step may use every core (``make bench`` pins its harness to one core; this step
lifts that for what it starts). Over the measured window it records the CPU share of the Redis server(s),
the nodes and the publishers (1.0 = one core) and each core's busy share, so the summary can say whether
Redis was the bottleneck: a Redis server near one core is; one well below it, while the cores are full of
nodes and publishers, is not.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time
from typing import Any

import psutil

NODES = 3
PUBLISHERS = 3


def _all_cores(pid: int = 0) -> None:
    """Let ``pid`` (0: this process) run on every core: ``make bench`` pins its harness, and children inherit."""
    cores = set(range(os.cpu_count() or 1))
    try:
        os.sched_setaffinity(pid, cores)
    except (AttributeError, OSError):
        pass


def _broker(url: str, deliver: Any = None) -> tuple[Any, Any]:
    """The broker an app node builds for ``url`` and its Redis client, with ``deliver`` as its hand-off to the hub."""
    from channels.redis import RedisBroker
    from channels.redis_cluster import ClusterBroker, connect, is_cluster
    from server.realtime.kinds import HISTORY

    client = connect(url)
    broker = ClusterBroker(client, history=HISTORY) if is_cluster(url) else RedisBroker(client, history=HISTORY)
    if deliver is not None:
        broker.attach(deliver)
    return broker, client


def _node(url: str, channels: list[str], ready: Any, counts: Any, index: int, stop: Any) -> None:
    _all_cores()

    async def main() -> None:
        got = [0]

        def deliver(channel: str, pub: Any) -> None:
            got[0] += 1

        broker, client = _broker(url, deliver)
        await broker.start()
        for channel in channels:
            await broker.subscribe(channel)
        ready.release()
        while not stop.is_set():
            await asyncio.sleep(0.05)
            counts[index] = got[0]
        counts[index] = got[0]
        await broker.close()
        await client.aclose()

    asyncio.run(main())


def _publisher(url: str, channels: list[str], start: Any, stop: Any, published: Any, index: int) -> None:
    _all_cores()

    async def main() -> None:
        broker, client = _broker(url)
        await broker.start()
        start.wait()
        done = [0]

        async def worker(offset: int) -> None:
            n = offset
            while not stop.is_set():
                await broker.publish(channels[n % len(channels)], "bench", b"{}")
                n += 16
                done[0] += 1

        await asyncio.gather(*(worker(index * 16 + k) for k in range(16)))
        published[index] = done[0]
        await broker.close()
        await client.aclose()

    asyncio.run(main())


def _cpu(pids: list[int]) -> list[float]:
    out = []
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out.append(t.user + t.system)
        except psutil.Error:
            out.append(0.0)
    return out


def measure(url: str, seconds: float, n_channels: int, redis_pids: list[int]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    channels = [f"user:{n}" for n in range(n_channels)]
    ready = ctx.Semaphore(0)
    start, stop = ctx.Event(), ctx.Event()
    counts = ctx.Array("q", NODES)
    published = ctx.Array("q", PUBLISHERS)
    nodes = [ctx.Process(target=_node, args=(url, channels, ready, counts, i, stop)) for i in range(NODES)]
    pubs = [ctx.Process(target=_publisher, args=(url, channels, start, stop, published, i)) for i in range(PUBLISHERS)]
    for p in nodes + pubs:
        p.start()
    for _ in nodes:
        ready.acquire(timeout=60)
    time.sleep(0.5)  # publishers connected
    for pid in redis_pids:
        _all_cores(pid)
    watched = {"redis": redis_pids, "nodes": [p.pid or 0 for p in nodes], "publishers": [p.pid or 0 for p in pubs]}
    before = sum(counts)
    start.set()
    t0 = time.monotonic()
    cpu0 = {k: _cpu(v) for k, v in watched.items()}
    cores0 = psutil.cpu_times(percpu=True)
    time.sleep(seconds)
    delivered = sum(counts) - before
    elapsed = time.monotonic() - t0
    cpu = {k: [(b - a) / elapsed for a, b in zip(cpu0[k], _cpu(v), strict=True)] for k, v in watched.items()}
    from bench.loadgen import busy_shares

    cores = busy_shares(cores0, psutil.cpu_times(percpu=True))
    stop.set()
    for p in pubs + nodes:
        p.join(timeout=15)
        if p.is_alive():
            p.kill()
    return {
        "deliveries_per_s": delivered / elapsed,
        "publishes_per_s": sum(published) / elapsed,
        "redis_cpu": cpu["redis"],  # per Redis server, share of one core
        "nodes_cpu": sum(cpu["nodes"]),
        "publishers_cpu": sum(cpu["publishers"]),
        "cores": cores,
    }


def run(seconds: float = 8.0, n_channels: int = 96) -> dict[str, Any]:
    """Both layouts, one after the other: ``{"single": {...}, "cluster": {...}}``."""
    import tempfile
    from pathlib import Path

    from bench.procs import Redis
    from tests.support.valkey_cluster import LocalCluster

    out: dict[str, Any] = {}
    single = Redis(Path(tempfile.mkdtemp(prefix="sf-scaleout-")))
    try:
        out["single"] = measure(single.url, seconds, n_channels, [single.proc.pid])
    finally:
        single.stop()
    cluster = LocalCluster(shards=3)
    try:
        url = cluster.start()
        out["cluster"] = measure(url, seconds, n_channels, [p.pid for p in cluster.procs if p is not None])
    finally:
        cluster.stop()
    return out


def _where(r: dict[str, Any]) -> str:
    if "redis_cpu" not in r:
        return ""
    shards = r["redis_cpu"]
    redis = f"Valkey {shards[0]:.0%}" if len(shards) == 1 else "shards " + " + ".join(f"{c:.0%}" for c in shards)
    cores = " / ".join(f"{c:.0%}" for c in r.get("cores", []))
    return f" ({redis} of a core; nodes {r['nodes_cpu']:.0%}, publishers {r['publishers_cpu']:.0%}; cores busy {cores})"


def summary(result: dict[str, Any]) -> str:
    one, three = result["single"], result["cluster"]
    ratio = three["deliveries_per_s"] / one["deliveries_per_s"] if one["deliveries_per_s"] else 0.0
    text = (
        f"{NODES} broker nodes, {PUBLISHERS} publishers: one Valkey {one['deliveries_per_s']:,.0f} deliveries/s"
        f"{_where(one)}; 3-shard cluster {three['deliveries_per_s']:,.0f} deliveries/s{_where(three)}: {ratio:.2f}x."
    )
    return text + " " + verdict(result)


def verdict(result: dict[str, Any]) -> str:
    """Whether one Redis was the bottleneck, from its CPU share against the cores' and the other processes'."""
    one = result["single"]
    if "redis_cpu" not in one:
        return ""
    redis = one["redis_cpu"][0]
    cores = one.get("cores") or [0.0]
    ours = redis + one["nodes_cpu"] + one["publishers_cpu"]
    if ours < 0.75 * sum(cores):
        return (
            f"Not conclusive: this step's processes got {ours:.0%} of a core while the {len(cores)} cores were "
            f"{sum(cores):.0%} busy, so other work on the machine set these rates; rerun on an idle machine."
        )
    if redis >= 0.85:
        return (
            f"One Valkey was the bottleneck: its one thread used {redis:.0%} of a core; the cluster spreads that "
            "over three shards."
        )
    return (
        f"One Valkey was not the bottleneck: it used {redis:.0%} of a core while the cores were "
        f"{min(cores):.0%}-{max(cores):.0%} busy, mostly with the nodes ({one['nodes_cpu']:.0%}) and publishers "
        f"({one['publishers_cpu']:.0%}); with {os.cpu_count()} cores a cluster's shards take CPU from them, so "
        "its gain cannot show on this machine."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--channels", type=int, default=96)
    args = parser.parse_args(argv)
    result = run(args.seconds, args.channels)
    print(result)
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
