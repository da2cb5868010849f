"""Fan-out benchmark: one server process, N authenticated sockets on one channel, M published events.

Measures deliveries per second, publish->receive latency (p50/p99) and the server's RSS per idle
authenticated socket. Usage (starts its own server with an embedded PostgreSQL and no Redis unless
REDIS_URL is set):

    .venv/bin/python -m bench.realtime_fanout --sockets 1000 --events 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--payload", type=int, default=200, help="bytes of data per event")
    parser.add_argument("--rate", type=float, default=0, help="events per second (0: as fast as possible)")
    args = parser.parse_args()

    port, key = free_port(), secrets.token_hex(16)
    env = {**os.environ, "PORT": str(port), "REALTIME_API_KEY": key, "DATA_DIR": tempfile.mkdtemp(prefix="sf-bench-")}
    env.setdefault("REALTIME_COMMAND_RATE", "1000")
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measured part
        [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(600):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            user = {"username": "bench", "email": "bench@example.com", "password": "correct horse battery"}
            await http.post("/api/v1/auth/register", json=user)
            login = await http.post("/api/v1/auth/login", json={"login": "bench", "password": user["password"]})
            token = login.json()["access_token"]
            pid = server.pid
            url = f"ws://127.0.0.1:{port}/api/v1/ws"
            headers = {"Authorization": f"Bearer {token}"}
            sockets: list[websockets.ClientConnection] = []

            async def open_sockets(count: int) -> None:
                for i in range(0, count, 100):
                    batch = [websockets.connect(url, additional_headers=headers, max_queue=None)
                             for _ in range(min(100, count - i))]  # fmt: skip
                    opened = await asyncio.gather(*batch)
                    for ws in opened:
                        await ws.recv()  # ready
                    sockets.extend(opened)

            # Half first (warms imports and pools), then the other half: the RSS delta of the second half
            # is what one more idle authenticated socket costs.
            half = args.sockets // 2
            await open_sockets(half)
            await asyncio.sleep(1)
            base_rss = rss_kib(pid)
            await open_sockets(args.sockets - half)
            await asyncio.sleep(1)
            idle_rss = rss_kib(pid)
            for ws in sockets:
                await ws.send(json.dumps({"type": "subscribe", "id": 1, "channel": "timeline:public"}))
            for ws in sockets:
                await ws.recv()

            latencies: list[float] = []
            received = 0

            async def reader(ws: websockets.ClientConnection) -> None:
                nonlocal received
                for _ in range(args.events):
                    frame = json.loads(await ws.recv())
                    latencies.append(time.perf_counter() - frame["data"]["t"])
                    received += 1

            readers = [asyncio.create_task(reader(ws)) for ws in sockets]
            pad = "x" * args.payload
            start = time.perf_counter()
            for n in range(args.events):
                if args.rate:
                    await asyncio.sleep(max(0.0, start + n / args.rate - time.perf_counter()))
                body = {
                    "channel": "timeline:public",
                    "event": "bench.tick",
                    "data": {"t": time.perf_counter(), "p": pad},
                }
                await http.post("/api/v1/realtime/publish", json=body, headers={"X-API-Key": key})
            await asyncio.gather(*readers)
            elapsed = time.perf_counter() - start
            latencies.sort()
            print(json.dumps({
                "sockets": args.sockets,
                "rate": args.rate,
                "events": args.events,
                "deliveries": received,
                "deliveries_per_s": round(received / elapsed),
                "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
                "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
                "idle_kib_per_socket": round((idle_rss - base_rss) / (args.sockets - half), 2),
            }))  # fmt: skip
            for ws in sockets:
                await ws.close()
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    asyncio.run(main())
