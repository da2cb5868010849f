"""Server CPU per request of one endpoint: repeatable on a busy machine, where latency figures are not.

Usage:  python -m bench.feed_cpu --pid PID [--base http://127.0.0.1:8000] [--path /api/v1/feeds/home?limit=20]
                                 [--users 10] [--requests 3000] [--conns 4] [--repeat 3]

Sends ``--requests`` requests, ``--conns`` at a time on raw keep-alive sockets, rotating over the bearer
tokens of seeded users ``user1``..``user{--users}`` (``--users 0``: no token, e.g. the bare endpoint), and
divides the CPU seconds (user + system) the server process ``--pid`` used meanwhile by the request count.
The wall clock is not used, but on a shared virtual machine CPU seconds still move with the neighbours'
load (caches, the sibling hyperthread). ``--callgrind`` counts instructions instead, which do not: start
the server under ``valgrind --tool=callgrind --instr-atstart=no`` and this switches instrumentation on
only around the measured requests (``callgrind_control``) and reports instructions per request. Those
include the server's background loops (relays, flushers, job polling) for as long as the run lasts
(``wall_s``): subtract their rate, measured with no requests, times ``wall_s`` when comparing runs made
under different machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from bench.feed_open_loop import request, tokens_for


def callgrind(pid: int, *args: str) -> str:
    """Run ``callgrind_control ARGS PID`` (valgrind's own tool) and return what it printed."""
    done = subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, text=True, check=True)  # noqa: S603, S607
    return done.stdout


def instructions(pid: int, folder: Path) -> int:
    """Dump the server's callgrind counts now and return the instructions (Ir) since the last dump."""
    callgrind(pid, "--dump")
    dumps = [*folder.glob(f"*.{pid}.*"), *folder.glob(f"*.{pid}")]
    newest = max(dumps, key=lambda p: p.stat().st_mtime, default=None)
    if newest is None:
        raise RuntimeError(f"no callgrind dump of {pid} in {folder} (valgrind's --callgrind-out-file=DIR/name.%p)")
    for line in newest.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {newest}")


async def measure(
    base: str, path: str, tokens: list[str], requests: int, conns: int, pid: int, dumps: Path | None = None
) -> dict[str, float]:
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    auth = [f"Authorization: Bearer {t}\r\n" for t in tokens] or [""]
    raws = [f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{a}\r\n".encode() for a in auth]
    pairs = [await asyncio.open_connection(host, port) for _ in range(conns)]
    rotation = itertools.cycle(raws)
    for pair in pairs:  # warm: sockets, sessions, timelines, caches
        for _ in range(len(raws)):
            await request(*pair, next(rotation))
    server = psutil.Process(pid)
    if dumps is not None:
        callgrind(pid, "--instr=on")
        instructions(pid, dumps)  # the dump resets the counters: what follows is the measured requests only
    before = server.cpu_times()
    began = time.monotonic()
    errors = 0
    per_conn = requests // conns

    async def drive(pair: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        nonlocal errors
        for _ in range(per_conn):
            errors += await request(*pair, next(rotation)) != 200

    await asyncio.gather(*(drive(p) for p in pairs))
    after = server.cpu_times()
    wall = time.monotonic() - began
    done = per_conn * conns
    extra: dict[str, float] = {}
    if dumps is not None:
        extra["instructions_per_req"] = round(instructions(pid, dumps) / done)
        callgrind(pid, "--instr=off")
    for _, writer in pairs:
        writer.close()
    cpu = (after.user - before.user) + (after.system - before.system)
    per = round(cpu / done * 1000, 3)
    return {
        "requests": done,
        "errors": errors,
        "server_cpu_s": round(cpu, 3),
        "cpu_ms_per_req": per,
        "wall_s": round(wall, 2),
        **extra,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--path", default="/api/v1/feeds/home?limit=20")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--conns", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--callgrind", type=Path, help="count instructions (server under callgrind, dumps in DIR)")
    args = parser.parse_args()
    tokens = await tokens_for(args.base, args.users) if args.users else []
    for _ in range(args.repeat):
        out = await measure(args.base, args.path, tokens, args.requests, args.conns, args.pid, args.callgrind)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    asyncio.run(main())
