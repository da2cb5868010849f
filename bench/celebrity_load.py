"""A post by an author with many followers: its sockets, its followers' home feeds, everyone else's feed.

Runs in the load generator (``mode: celebrity``). While other users read their home feeds at a fixed
open-loop rate, the author posts once through REST; measured from the POST:
- when the post's ``timeline:home`` event reaches each online follower's socket (goal: all within 1 s);
- when a sample of followers first sees the post on page one of ``GET /api/v1/feeds/home`` (polled every
  ``poll`` seconds; goal: all within 10 s);
- the other users' feed p99 in the seconds before the post against the seconds after it (goal: at most twice).

A p99 is only as good as its sample: the others' load first runs ``warmup_seconds`` whose latencies are
discarded (the online followers' first feed reads and the 100k follow rows' aftermath settle there), then
``before_seconds`` of baseline, and the "during" window lasts until every socket has the post and at least
``during_seconds`` after the POST, so each window holds a few hundred requests; both counts are reported.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench.e2e_load import follower_script
from bench.stats import percentile
from bench.wire import HTTPConnection, HTTPPool, Tally, WSClient


async def run_celebrity(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    loop = asyncio.get_running_loop()
    tally = Tally()

    async def one(f: dict[str, str]) -> WSClient:
        _, client = await loop.create_connection(
            lambda: WSClient(host, port, spec["ws_path"], follower_script(f["token"], f["id"]), tally, probe=True),
            host,
            port,
        )
        await asyncio.wait_for(client.ready, 15)
        return client

    pool = HTTPPool(host, port, size=spec.get("connections", 32))

    async def open_app(f: dict[str, str]) -> None:
        # What a client does when it opens: its home feed's first page (which also marks the user active,
        # the set live home events go to), then the socket.
        await pool.request("GET", "/api/v1/feeds/home?limit=20", headers={"Authorization": f"Bearer {f['token']}"})

    clients: list[WSClient] = []
    for start in range(0, len(spec["online"]), 50):
        batch = spec["online"][start : start + 50]
        await asyncio.gather(*(open_app(f) for f in batch))
        clients += await asyncio.gather(*(one(f) for f in batch))
    await asyncio.sleep(0.5)

    # Everyone else's feed, open loop: (scheduled at, latency ms) per request.
    others = spec["others"]
    timings: list[tuple[float, float]] = []
    errors = 0

    async def read_feed(i: int, at: float) -> None:
        nonlocal errors
        status, _ = await pool.request("GET", "/api/v1/feeds/home?limit=20", headers=others[i % len(others)])
        if status != 200:
            errors += 1
        timings.append((at, (time.monotonic() - at) * 1000))

    warmup, before = spec.get("warmup_seconds", 2.0), spec.get("before_seconds", 4.0)
    during_min, after = spec.get("during_seconds", 3.0), spec.get("timeout", 10.0)
    rate = spec.get("rate", 100.0)
    stop = asyncio.Event()

    async def background() -> None:
        tasks: list[asyncio.Task[None]] = []
        start = time.monotonic()
        i = 0
        while not stop.is_set():
            at = start + i / rate
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(loop.create_task(read_feed(i, at)))
            i += 1
        await asyncio.gather(*tasks)

    load = loop.create_task(background())
    await asyncio.sleep(warmup)
    baseline_from = time.monotonic()
    await asyncio.sleep(before)

    tally.arrivals = arrivals = []
    http = await HTTPConnection.open(host, port)
    headers = {"Authorization": f"Bearer {spec['author_token']}", "Content-Type": "application/json"}
    body = json.dumps({"text": "celebrity bench post #bench", "visibility": "public"}).encode()
    t0 = time.monotonic()
    status, answer = await http.request("POST", "/api/v1/posts", body, headers)
    rest_ms = (time.monotonic() - t0) * 1000
    http.close()
    post_id = json.loads(answer).get("id") if status == 201 else None

    # Followers' home feeds: each polls page one until the post is on it.
    seen_ms: list[float] = []

    async def poll(reader: dict[str, str]) -> None:
        conn = await HTTPConnection.open(host, port)
        auth = {"Authorization": f"Bearer {reader['token']}"}
        try:
            while time.monotonic() - t0 < after:
                code, page = await conn.request("GET", "/api/v1/feeds/home?limit=5", headers=auth)
                if code == 200 and post_id is not None and f'"id":"{post_id}"'.encode() in page:
                    seen_ms.append((time.monotonic() - t0) * 1000)
                    return
                await asyncio.sleep(spec.get("poll", 0.25))
        finally:
            conn.close()

    if post_id is not None:
        await asyncio.gather(*(poll(r) for r in spec["readers"]))
    while len(arrivals) < len(clients) and time.monotonic() - t0 < after:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    window_end = time.monotonic()
    if window_end - t0 < during_min:
        await asyncio.sleep(t0 + during_min - window_end)
        window_end = time.monotonic()
    stop.set()
    await load
    pool.close()
    for client in clients:
        client.close()

    socket_ms = sorted((a - t0) * 1000 for a in arrivals[: len(clients)])
    before_lat = [ms for at, ms in timings if baseline_from <= at < t0]
    during_lat = [ms for at, ms in timings if t0 <= at <= window_end]
    p99_before = percentile(before_lat, 99)
    p99_during = percentile(during_lat, 99)
    return {
        "status": status,
        "error": None if status == 201 else answer[:300].decode(errors="replace"),
        "rest_ms": rest_ms,
        "online": len(clients),
        "delivered": len(socket_ms),
        "socket_p50_ms": percentile(socket_ms, 50),
        "socket_p99_ms": percentile(socket_ms, 99),
        "socket_last_ms": socket_ms[-1] if socket_ms else None,
        "readers": len(spec["readers"]),
        "feed_seen": len(seen_ms),
        "feed_last_ms": max(seen_ms) if seen_ms else None,
        "others_rate": rate,
        "others_p99_before_ms": p99_before,
        "others_p99_during_ms": p99_during,
        "others_before_n": len(before_lat),
        "others_during_n": len(during_lat),
        "others_errors": errors,
    }
