"""Home-feed read benchmark on the seeded data set (``python -m server seed``), one server worker.

Usage:  python bench/feed_social.py [--base http://127.0.0.1:8000] [--rate 300] [--seconds 30]
(serve with ``RATE_LIMIT_LOGIN_IP=100000/60`` so that repeated runs are not throttled at login)

1. Logs in ``--users`` seeded accounts (``user1``…; password ``seed password 1``), each following
   the 100k-follower ``celebrity`` plus a skewed set of ordinary authors.
2. Open-loop load: ``GET /api/v1/feeds/home?limit=20`` at a steady ``--rate`` requests/s (requests
   are started on schedule whether or not earlier ones finished), and reports p50/p95/p99/max.
3. Fan-out: the celebrity posts once; the time until the post is on every sampled follower's home
   feed is measured (and, when the realtime gateway is present, until each of ``--sockets``
   followers subscribed to ``timeline:home:{id}`` receives ``post.created``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from typing import Any

import httpx

PASSWORD = "seed password 1"  # noqa: S105 - the seeding CLI's documented demo password


async def login(client: httpx.AsyncClient, username: str) -> tuple[str, str]:
    res = await client.post("/api/v1/auth/login", json={"login": username, "password": PASSWORD})
    res.raise_for_status()
    token = res.json()["access_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    return token, me.json()["id"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


async def feed_load(client: httpx.AsyncClient, tokens: list[str], rate: float, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0

    async def one(token: str) -> None:
        nonlocal errors
        start = time.perf_counter()
        try:
            res = await client.get(
                "/api/v1/feeds/home", params={"limit": 20}, headers={"Authorization": f"Bearer {token}"}
            )
            ok = res.status_code == 200
        except httpx.HTTPError:  # a timeout is a failed request, not a crashed benchmark
            ok = False
        latencies.append((time.perf_counter() - start) * 1000)
        if not ok:
            errors += 1

    tasks = []
    begin = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(random.choice(tokens))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    return {
        "requests": total,
        "achieved_rps": round(total / elapsed, 1),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(pct(latencies, 0.95), 2),
        "p99_ms": round(pct(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
    }


async def socket_waiter(base: str, token: str, user_id: str, ready: asyncio.Event, got: list[float]) -> None:
    import websockets

    url = base.replace("http", "ws", 1) + "/api/v1/ws"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "id": 1, "token": token}))
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "id": 2, "channel": f"timeline:home:{user_id}"}))
        await ws.recv()
        ready.set()
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "event" and frame.get("event") == "post.created":
                got.append(time.perf_counter())
                return


async def fanout(
    base: str, client: httpx.AsyncClient, followers: list[tuple[str, str]], sockets: int
) -> dict[str, Any]:
    celeb_token, _ = await login(client, "celebrity")
    waiters: list[asyncio.Task[None]] = []
    arrivals: list[float] = []
    socket_note = "not measured"
    try:
        events = [asyncio.Event() for _ in followers[:sockets]]
        waiters = [
            asyncio.create_task(socket_waiter(base, tok, uid, ev, arrivals))
            for (tok, uid), ev in zip(followers[:sockets], events, strict=False)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 10)
        socket_note = ""
    except Exception as exc:  # no realtime gateway yet, or it refused
        socket_note = f"sockets unavailable: {type(exc).__name__}"
        for w in waiters:
            w.cancel()
        waiters = []
    start = time.perf_counter()
    res = await client.post(
        "/api/v1/posts", json={"text": "bench fan-out #bench"}, headers={"Authorization": f"Bearer {celeb_token}"}
    )
    res.raise_for_status()
    post_id = res.json()["id"]
    pending = dict(followers)
    feed_done = 0.0
    while pending and time.perf_counter() - start < 30:
        for tok in list(pending):
            page = await client.get(
                "/api/v1/feeds/home", params={"limit": 5}, headers={"Authorization": f"Bearer {tok}"}
            )
            if any(p["id"] == post_id for p in page.json()["items"]):
                pending.pop(tok)
        feed_done = time.perf_counter() - start
    if waiters:
        await asyncio.wait(waiters, timeout=10)
    out: dict[str, Any] = {
        "followers_checked": len(followers),
        "all_home_feeds_s": round(feed_done, 3) if not pending else None,
        "sockets": len(waiters),
    }
    if arrivals:
        out["socket_p100_s"] = round(max(arrivals) - start, 3)
        out["sockets_received"] = len(arrivals)
    if socket_note:
        out["note"] = socket_note
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--sockets", type=int, default=50)
    args = parser.parse_args()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=args.base, timeout=30, limits=limits) as client:
        pairs = [await login(client, f"user{i}") for i in range(1, args.users + 1)]
        tokens = [t for t, _ in pairs]
        for tok in tokens:  # warm the timelines (the steady state of active users)
            await client.get("/api/v1/feeds/home", headers={"Authorization": f"Bearer {tok}"})
        result = {"feed": await feed_load(client, tokens, args.rate, args.seconds)}
        result["fanout"] = await fanout(args.base, client, pairs, args.sockets)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
