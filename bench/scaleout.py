"""Fan-out past one Redis: 3 broker nodes on one Valkey vs on a 3-shard Valkey Cluster, deliveries/s.

``python -m bench.scaleout [--seconds 8] [--channels 96]``. Each "node" is a process running the realtime
layer's broker as an app node does (``RedisBroker``, or ``ClusterBroker`` for ``redis+cluster://``) and
subscribing to every channel; three publisher processes publish round-robin over the channels as fast
as the broker takes them. Deliveries/s counts what the three nodes' brokers handed to their hubs
(each publication counts once per node). Sockets are left out on purpose: the question is whether
Redis is the bottleneck, and the websocket side is measured by the fan-out run of ``make bench``.
On the shared 2-core machine every process competes for the same cores, so the ratio is what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from typing import Any

NODES = 3
PUBLISHERS = 3


def _node(url: str, channels: list[str], ready: Any, counts: Any, index: int, stop: Any) -> None:
    async def main() -> None:
        from channels.redis import RedisBroker
        from channels.redis_cluster import ClusterBroker, is_cluster
        from server.realtime.kinds import HISTORY

        broker: Any = ClusterBroker(url, history=HISTORY) if is_cluster(url) else RedisBroker(url, history=HISTORY)
        got = [0]

        def deliver(channel: str, pub: Any) -> None:
            got[0] += 1

        broker.deliver = deliver
        await broker.start()
        for channel in channels:
            await broker.subscribe(channel)
        ready.release()
        while not stop.is_set():
            await asyncio.sleep(0.05)
            counts[index] = got[0]
        counts[index] = got[0]
        await broker.close()

    asyncio.run(main())


def _publisher(url: str, channels: list[str], start: Any, stop: Any, published: Any, index: int) -> None:
    async def main() -> None:
        from channels.redis import RedisBroker
        from channels.redis_cluster import ClusterBroker, is_cluster
        from server.realtime.kinds import HISTORY

        broker: Any = ClusterBroker(url, history=HISTORY) if is_cluster(url) else RedisBroker(url, history=HISTORY)
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

    asyncio.run(main())


def measure(url: str, seconds: float, n_channels: int) -> dict[str, float]:
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
    before = sum(counts)
    start.set()
    t0 = time.monotonic()
    time.sleep(seconds)
    delivered = sum(counts) - before
    elapsed = time.monotonic() - t0
    stop.set()
    for p in pubs + nodes:
        p.join(timeout=15)
        if p.is_alive():
            p.kill()
    return {"deliveries_per_s": delivered / elapsed, "publishes_per_s": sum(published) / elapsed}


def run(seconds: float = 8.0, n_channels: int = 96) -> dict[str, Any]:
    """Both layouts, one after the other: ``{"single": {...}, "cluster": {...}}``."""
    import tempfile
    from pathlib import Path

    from bench.procs import Redis
    from tests.support.valkey_cluster import LocalCluster

    out: dict[str, Any] = {}
    single = Redis(Path(tempfile.mkdtemp(prefix="sf-scaleout-")))
    try:
        out["single"] = measure(single.url, seconds, n_channels)
    finally:
        single.stop()
    cluster = LocalCluster(shards=3)
    try:
        out["cluster"] = measure(cluster.start(), seconds, n_channels)
    finally:
        cluster.stop()
    return out


def summary(result: dict[str, Any]) -> str:
    one, three = result["single"], result["cluster"]
    ratio = three["deliveries_per_s"] / one["deliveries_per_s"] if one["deliveries_per_s"] else 0.0
    return (
        f"{NODES} broker nodes, {PUBLISHERS} publishers: one Valkey {one['deliveries_per_s']:,.0f} deliveries/s, "
        f"3-shard cluster {three['deliveries_per_s']:,.0f} deliveries/s ({ratio:.2f}x)"
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
