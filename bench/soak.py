"""``make soak``: a long run of many sockets and steady REST traffic against one real server.

Starts ``python -m server serve`` (embedded PostgreSQL in a temporary DATA_DIR, in-process broker),
opens ``--sockets`` authenticated websockets (each on ``timeline:public`` and its user channel), keeps a
steady REST load (publish, read feeds, like) and samples the server every minute: RSS, open file
descriptors, threads, asyncio tasks (the server's ``/metrics`` gauge), sockets still open, events
received, errors. Passes when nothing failed and the
RSS of the last minute is within ``--rss-growth`` of the first minute's. Never part of ``make test``.

    python -m bench.soak --minutes 10 --sockets 2000 --rps 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"  # noqa: S105 - the soak accounts live in a throwaway DATA_DIR
METRICS_TOKEN = os.urandom(16).hex()


async def asyncio_tasks(base: str) -> int:
    """The server's own gauge of live asyncio tasks (``/metrics``, sampled right before the scrape)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        res = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for line in res.text.splitlines():
        if line.startswith("socialflow_asyncio_tasks "):
            return int(float(line.split()[1]))
    return -1


def sample(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_kib": int(fields["VmRSS"].split()[0]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"]),
    }


class Stats:
    def __init__(self) -> None:
        self.rest_ok = self.rest_errors = self.events = self.drops = self.open = 0


async def one_socket(url: str, token: str, user_id: str, stats: Stats, stop: asyncio.Event) -> None:
    try:
        async with websockets.connect(url, max_size=2**22, open_timeout=60, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "auth", "id": 1, "token": token}))
            assert json.loads(await ws.recv())["type"] == "ready"
            for i, channel in enumerate(("timeline:public", f"user:{user_id}"), start=2):
                await ws.send(json.dumps({"type": "subscribe", "id": i, "channel": channel}))
            stats.open += 1
            try:
                while not stop.is_set():
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    except TimeoutError:
                        continue
                    if frame.get("type") == "event":
                        stats.events += 1
            finally:
                stats.open -= 1
    except Exception as exc:  # a socket that could not open or was dropped
        if not stop.is_set():
            stats.drops += 1
            print(f"socket error: {type(exc).__name__}: {exc}", file=sys.stderr)


async def rest_load(base: str, tokens: list[str], rps: float, stats: Stats, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        n = 0
        last_post: str | None = None
        while not stop.is_set():
            n += 1
            auth = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
            kind = n % 4
            if kind == 0:
                res = await http.post("/api/v1/posts", json={"text": f"soak #{n % 7} post {n}"}, headers=auth)
                if res.status_code == 201:
                    last_post = res.json()["id"]
            elif kind == 1 and last_post:
                res = await http.post(f"/api/v1/posts/{last_post}/like", headers=auth)
            elif kind == 2:
                res = await http.get("/api/v1/feeds/home", headers=auth)
            else:
                res = await http.get("/api/v1/feeds/public")
            if res.status_code < 400:
                stats.rest_ok += 1
            else:
                stats.rest_errors += 1
                print(f"REST {res.status_code}: {res.text[:200]}", file=sys.stderr)
            await asyncio.sleep(1 / rps)


async def run(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="sf-soak-"))
    port = args.port
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(port),
        HOST="127.0.0.1",
        LOG_LEVEL="warning",
        REALTIME_COMMAND_RATE="1000",
        # The load comes from one address and a few accounts: lift the per-IP and per-user write limits.
        RATE_LIMIT_LOGIN_IP="100000/60",
        RATE_LIMIT_REGISTER_IP="100000/60",
        RATE_LIMIT_WRITE_POSTS="1000000/60",
        RATE_LIMIT_WRITE_LIKES="1000000/60",
        METRICS_TOKEN=METRICS_TOKEN,  # /metrics gives the asyncio task count, sampled each minute
    )
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/v1/ws"
    stats, stop = Stats(), asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(600):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
            users = []
            for i in range(args.users):
                name = f"soak{i}"
                await http.post(
                    "/api/v1/auth/register",
                    json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
                )
                login = (await http.post("/api/v1/auth/login", json={"login": name, "password": PASSWORD})).json()
                me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login['access_token']}"})
                users.append((login["access_token"], me.json()["id"]))
        tasks = []
        for i in range(args.sockets):
            token, uid = users[i % len(users)]
            tasks.append(asyncio.create_task(one_socket(ws_url, token, uid, stats, stop)))
            if i % 100 == 99:
                await asyncio.sleep(0.2)
        for _ in range(120):
            if stats.open + stats.drops >= args.sockets:
                break
            await asyncio.sleep(0.5)
        tasks.append(asyncio.create_task(rest_load(base, [t for t, _ in users], args.rps, stats, stop)))
        rows = []
        print("minute  rss_MiB  fds  threads  tasks  sockets_open  events  rest_ok  rest_errors  socket_drops")
        start = time.monotonic()
        for minute in range(1, args.minutes + 1):
            await asyncio.sleep(max(0.0, start + minute * 60 * args.minute_scale - time.monotonic()))
            s = {**sample(proc.pid), "tasks": await asyncio_tasks(base)}
            row = {
                "minute": minute,
                **s,
                "open": stats.open,
                "events": stats.events,
                "ok": stats.rest_ok,
                "errors": stats.rest_errors,
                "drops": stats.drops,
            }
            rows.append(row)
            print(
                f"{minute:6d}  {s['rss_kib'] / 1024:7.1f}  {s['fds']:4d}  {s['threads']:7d}  {s['tasks']:5d}  "
                f"{stats.open:12d}  {stats.events:6d}  {stats.rest_ok:7d}  {stats.rest_errors:11d}  {stats.drops:12d}",
                flush=True,
            )
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    first, last = rows[0]["rss_kib"], rows[-1]["rss_kib"]
    growth = (last - first) / first
    failed = stats.rest_errors or stats.drops or rows[-1]["open"] < args.sockets
    print(
        f"RSS {first / 1024:.1f} -> {last / 1024:.1f} MiB ({growth:+.1%}), fds {rows[0]['fds']} -> {rows[-1]['fds']}, "
        f"tasks {rows[0]['tasks']} -> {rows[-1]['tasks']}, "
        f"REST ok {stats.rest_ok} errors {stats.rest_errors}, socket drops {stats.drops}, events {stats.events}"
    )
    if failed or growth > args.rss_growth:
        print("SOAK FAILED", file=sys.stderr)
        return 1
    print("soak passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--minute-scale", type=float, default=1.0, help="seconds per 'minute' / 60 (short runs)")
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rps", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rss-growth", type=float, default=0.15, help="allowed RSS growth, first to last minute")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
