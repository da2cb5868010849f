"""A light open-loop load generator for ``GET /api/v1/feeds/home`` (for profiling the server, not the client).

Usage:  python -m bench.feed_open_loop [--base http://127.0.0.1:8000] [--rate 300] [--seconds 20] [--users 20]

``bench/feed_social.py`` drives its load through httpx, whose pool costs more CPU per request than the
server does at a few hundred req/s on this 2-core box (it could not offer 300 req/s here). This one
keeps ``--conns`` raw keep-alive HTTP/1.1 sockets and sends each request at its scheduled time on a
free socket; latency is measured from the scheduled time (a request waiting for a free socket counts
as waiting), so coordinated omission does not hide queueing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from urllib.parse import urlsplit

import httpx

PASSWORD = "seed password 1"  # noqa: S105 - the seeding CLI's documented demo password


async def tokens_for(base: str, users: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        out = []
        for i in range(1, users + 1):
            res = await client.post("/api/v1/auth/login", json={"login": f"user{i}", "password": PASSWORD})
            res.raise_for_status()
            out.append(res.json()["access_token"])
        return out


async def request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def run(base: str, tokens: list[str], rate: float, seconds: float, conns: int) -> dict[str, float]:
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    raws = [
        (
            f"GET /api/v1/feeds/home?limit=20 HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {tok}\r\n\r\n"
        ).encode()
        for tok in tokens
    ]
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(conns):
        free.put_nowait(await asyncio.open_connection(host, port))
    for _ in range(conns):  # warm every socket (and the viewers' timelines)
        pair = free.get_nowait()
        await request(*pair, random.choice(raws))
        free.put_nowait(pair)
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float, raw: bytes) -> None:
        nonlocal errors
        pair = await free.get()
        try:
            status = await request(*pair, raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)
        errors += status != 200
        free.put_nowait(pair)

    tasks = []
    begin = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, random.choice(raws))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    return {
        "requests": total,
        "offered_rps": rate,
        "achieved_rps": round(total / elapsed, 1),
        "errors": errors,
        "p50_ms": round(pct(latencies, 0.50), 2),
        "p95_ms": round(pct(latencies, 0.95), 2),
        "p99_ms": round(pct(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--conns", type=int, default=32)
    args = parser.parse_args()
    tokens = await tokens_for(args.base, args.users)
    print(json.dumps(await run(args.base, tokens, args.rate, args.seconds, args.conns)))


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
