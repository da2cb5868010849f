"""The fan-out load generator: one asyncio + uvloop process, run as ``python -m bench.loadgen SPEC.json``.

It opens the sockets (most count frames, a few probes time them), measures the server's RSS before and
after, then publishes at rising rates until a step is not sustained, and prints one JSON result.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench.stats import Step, summarize
from bench.wire import HTTPPool, Tally, WSClient, encode_frame, open_loop


@dataclass
class Spec:
    """What to load and how; written by the orchestrator as JSON."""

    host: str
    port: int
    ws_path: str
    publish: dict[str, Any]  # {"kind": "http", "path", "headers", "envelope"?} or {"kind": "ws", "path"}
    rates: list[float]  # offered deliveries/s, rising
    scripts: list[list[tuple[str, str]]] = field(default_factory=list)  # per-socket setup, cycled
    sockets: int = 1000
    probes: int = 50
    step_seconds: float = 2.0
    drain_seconds: float = 1.0
    payload_bytes: int = 100
    server_pid: int = 0
    settle_seconds: float = 1.0
    deadline_seconds: float = 60.0
    # Several app nodes (bench/scaleout_nodes.py): sockets and publishes spread round-robin over ``ports``;
    # server CPU and RSS are summed over ``server_pids``; ``watch_pids`` ({name: [pid]}) get a CPU share per step.
    ports: list[int] = field(default_factory=list)
    server_pids: list[int] = field(default_factory=list)
    watch_pids: dict[str, list[int]] = field(default_factory=dict)

    def port_of(self, i: int) -> int:
        return self.ports[i % len(self.ports)] if self.ports else self.port

    @property
    def pids(self) -> list[int]:
        return self.server_pids or [self.server_pid]


def payload(seq: int, size: int) -> bytes:
    """A JSON object of about ``size`` bytes with the send time on the host's monotonic clock."""
    head = f'{{"ts":{time.monotonic():.6f},"seq":{seq},"pad":"'
    return (head + "x" * max(0, size - len(head) - 2) + '"}').encode()


def rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss) if pid else 0


def server_cpu_seconds(pid: int) -> float:
    import psutil

    if not pid:
        return 0.0
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every descendant, living or reaped (a PostgreSQL postmaster and its backends)."""
    import psutil

    try:
        root = psutil.Process(pid)
        t = root.cpu_times()
        total = float(t.user + t.system + t.children_user + t.children_system)
        children = root.children(recursive=True)
    except psutil.Error:
        return 0.0
    for child in children:
        try:
            c = child.cpu_times()
        except psutil.Error:
            continue
        total += c.user + c.system
    return total


def busy_shares(before: list[Any], after: list[Any]) -> list[float]:
    """Each core's busy share between two ``psutil.cpu_times(percpu=True)`` samples (1.0 = fully busy)."""
    out = []
    for a, b in zip(before, after, strict=False):
        total = sum(b) - sum(a)
        idle = (b.idle - a.idle) + (getattr(b, "iowait", 0.0) - getattr(a, "iowait", 0.0))
        out.append(round(1 - idle / total, 3) if total > 0 else 0.0)
    return out


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def connect_all(spec: Spec, tally: Tally) -> list[WSClient]:
    """Open ``spec.sockets`` sockets in batches; the first ``spec.probes`` are probes."""
    loop = asyncio.get_running_loop()
    scripts = spec.scripts or [[]]
    clients: list[WSClient] = []

    async def one(i: int) -> WSClient:
        def factory() -> WSClient:
            port = spec.port_of(i)
            return WSClient(spec.host, port, spec.ws_path, scripts[i % len(scripts)], tally, probe=i < spec.probes)

        _, client = await loop.create_connection(factory, spec.host, spec.port_of(i))
        await asyncio.wait_for(client.ready, 15)
        return client

    # The first socket alone, then batches: several stacks subscribe to the broker lazily on the first
    # socket, and broadcaster loses subscribers when many race that first subscribe. No stack should
    # be measured on a setup race that a real deployment (clients arriving over time) would not hit.
    clients.append(await one(0))
    await asyncio.sleep(0.3)
    batch = 50
    for start in range(1, spec.sockets, batch):
        clients += await asyncio.gather(*(one(i) for i in range(start, min(start + batch, spec.sockets))))
    return clients


class Publisher:
    """Publishes one payload per call: an HTTP POST to the stack's publish endpoint, or a websocket frame."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.conf = spec.publish
        self.errors = 0
        self.last_error = ""
        size = int(self.conf.get("connections", 16))
        self.pools = [HTTPPool(spec.host, p, size=size) for p in (spec.ports or [spec.port])]
        self.pool = self.pools[0]
        self.ws: WSClient | None = None

    async def start(self) -> None:
        if self.conf["kind"] == "ws":
            loop = asyncio.get_running_loop()
            _, self.ws = await loop.create_connection(
                lambda: WSClient(self.spec.host, self.spec.port, self.conf["path"], [], Tally()),
                self.spec.host,
                self.spec.port,
            )
            await asyncio.wait_for(self.ws.ready, 10)

    def body(self, seq: int) -> bytes:
        data = payload(seq, self.spec.payload_bytes)
        envelope = self.conf.get("envelope")
        if envelope:
            # The contract's publish body: {"channel", "event", "data"}; data stays the ~100-byte object.
            return b'{"channel":"%s","event":"%s","data":%s}' % (
                envelope["channel"].encode(),
                envelope["event"].encode(),
                data,
            )
        return data

    async def fire(self, seq: int, _at: float) -> None:
        body = self.body(seq)
        if self.ws is not None:
            assert self.ws.transport is not None
            self.ws.transport.write(encode_frame(body))
            return
        try:
            status, answer = await self.pools[seq % len(self.pools)].request(
                "POST", self.conf["path"], body, {"Content-Type": "application/json", **self.conf.get("headers", {})}
            )
        except (OSError, asyncio.IncompleteReadError) as exc:
            status, answer = 0, str(exc).encode()
        if status >= 300 or status == 0:
            self.errors += 1
            self.last_error = f"{status} {answer[:200].decode(errors='replace')}"


async def run_step(spec: Spec, tally: Tally, publisher: Publisher, offered: float) -> tuple[Step, dict[str, Any]]:
    """One step at ``offered`` deliveries/s: the step, and per-step extras (cores' busy shares, watched CPU)."""
    rate = offered / spec.sockets
    tally.latencies = []
    base = tally.frames
    cpu0, server0, t0 = cpu_seconds(), sum(server_cpu_seconds(p) for p in spec.pids), time.monotonic()
    watched0 = {name: sum(tree_cpu_seconds(p) for p in pids) for name, pids in spec.watch_pids.items()}
    cores0 = psutil.cpu_times(percpu=True)
    tasks = await open_loop(rate, spec.step_seconds, publisher.fire)
    seconds = time.monotonic() - t0 + 1 / rate
    expected = len(tasks) * spec.sockets
    deadline = time.monotonic() + spec.drain_seconds
    while time.monotonic() < deadline and tally.frames - base < expected:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks, return_exceptions=True)
    delivered = min(tally.frames - base, expected)
    latencies = tally.latencies
    tally.latencies = []
    step = summarize(offered, seconds, expected, delivered, latencies)
    wall = max(time.monotonic() - t0, 1e-9)
    step.client_cpu = (cpu_seconds() - cpu0) / wall
    server_seconds = sum(server_cpu_seconds(p) for p in spec.pids) - server0
    step.server_cpu = server_seconds / wall
    step.per_cpu_second = delivered / server_seconds if server_seconds > 0 else None
    extra: dict[str, Any] = {"cores": busy_shares(cores0, psutil.cpu_times(percpu=True))}
    if spec.watch_pids:
        extra["watched_cpu"] = {
            name: (sum(tree_cpu_seconds(p) for p in pids) - watched0[name]) / wall
            for name, pids in spec.watch_pids.items()
        }
    return step, extra


async def settle(tally: Tally) -> None:
    """Let stragglers of an overloaded step land before the next one is counted."""
    last = -1
    quiet_until = time.monotonic() + 3.0
    while tally.frames != last and time.monotonic() < quiet_until:
        last = tally.frames
        await asyncio.sleep(0.2)


#: A failed step is retried once only when the server did not get this much of its core: then a neighbour
#: may have sunk it. A server that had its core and still failed is saturated; a retry would say so again.
RETRY_BELOW_SERVER_CPU = 0.9


async def main(spec: Spec) -> dict[str, Any]:
    started = time.monotonic()
    tally = Tally()
    result: dict[str, Any] = {"sockets": spec.sockets, "probes": spec.probes, "steps": []}
    publisher = Publisher(spec)
    await publisher.start()
    # One warm-up publish so lazily created server state is in the baseline RSS, not per socket.
    await publisher.fire(-1, time.monotonic())
    await asyncio.sleep(0.3)
    rss_before = sum(rss(p) for p in spec.pids)
    t0 = time.monotonic()
    clients = await connect_all(spec, tally)
    result["connect_seconds"] = time.monotonic() - t0
    await asyncio.sleep(spec.settle_seconds)
    rss_after = sum(rss(p) for p in spec.pids)
    result["rss_before"], result["rss_after"] = rss_before, rss_after
    result["idle_kib"] = (rss_after - rss_before) / 1024 / spec.sockets if spec.server_pid else None
    tally.frames = 0
    for offered in spec.rates:
        if time.monotonic() - started > spec.deadline_seconds:
            result["stopped"] = "deadline"
            break
        step, extra = await run_step(spec, tally, publisher, offered)
        retried = False
        if not step.sustained and step.server_cpu < RETRY_BELOW_SERVER_CPU:
            # One retry: on a shared machine a neighbour's burst can sink a single short step.
            await settle(tally)
            (step, extra), retried = await run_step(spec, tally, publisher, offered), True
        if step.sustained:
            await settle(tally)
        result["steps"].append({**step.to_dict(), **extra, "retried": retried})
        print(
            f"  {offered:>9,.0f}/s offered  {step.achieved:>9,.0f}/s delivered "
            f"({step.delivered / max(step.expected, 1):.1%})  p50 {step.p50_ms or 0:6.1f} ms  "
            f"p99 {step.p99_ms or 0:6.1f} ms  server cpu {step.server_cpu:.0%}  client cpu {step.client_cpu:.0%}",
            file=sys.stderr,
            flush=True,
        )
        if not step.sustained:
            break
    result["publish_errors"] = publisher.errors
    result["publisher_dropped"] = sum(pool.dropped for pool in publisher.pools)
    result["last_publish_error"] = publisher.last_error
    result["frame_bytes"] = len(tally.last_frame)
    result["sample_frame"] = tally.last_frame[:300].decode(errors="replace")
    result["closed_sockets"] = sum(1 for c in clients if c.closed)
    for client in clients:
        client.close()
    for pool in publisher.pools:
        pool.close()
    if publisher.ws is not None:
        publisher.ws.close()
    return result


def run(path: str) -> None:
    """Run the mode the spec names: ``fanout`` (default), ``e2e``, ``celebrity``, ``http`` or ``replica_lag``."""
    import uvloop

    with open(path) as handle:
        raw = json.load(handle)
    mode = raw.pop("mode", "fanout")
    result: dict[str, Any]
    if mode == "e2e":
        from bench.e2e_load import run_e2e

        result = uvloop.run(run_e2e(raw))
    elif mode == "celebrity":
        from bench.celebrity_load import run_celebrity

        result = uvloop.run(run_celebrity(raw))
    elif mode == "replica_lag":
        from bench.replica_load import run_replica_lag

        result = uvloop.run(run_replica_lag(raw))
    elif mode == "http":
        from bench.http_load import run_http

        result = uvloop.run(run_http(raw))
    else:
        raw["scripts"] = [[tuple(item) for item in script] for script in raw.get("scripts", [])]
        result = uvloop.run(main(Spec(**raw)))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    run(sys.argv[1])
