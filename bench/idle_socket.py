"""The idle-socket part of ``make bench``'s Social Flow fan-out run alone, with the server's memory taken apart.

    .venv/bin/python -m bench.idle_socket [--root CHECKOUT] [--sockets 1000] [--trace 25]

Same setup as ``bench/socialflow.py`` + ``bench/loadgen.py`` up to the idle figure: ``python -m server serve``
on Redis and an embedded PostgreSQL, 4 users registered and logged in through REST, one handshake probe,
one warm-up publish, then ``--sockets`` sockets (auth + subscribe to ``timeline:public``) opened in batches
of 50. It prints ``make bench``'s figure ((RSS after - RSS before) / sockets) next to the marginal RSS of
the second half of the sockets, and the server's own view at both points (``bench/memprobe.py``): glibc's
in-use and free heap bytes, Python's object count and, with ``--trace``, tracemalloc's per-socket bytes by
traceback. RSS before/after come from the same ``/proc`` files psutil reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench import procs, socialflow, venvs, wire
from bench.wire import Tally, WSClient

CHANNEL = "timeline:public"


def rss_split(pid: int) -> dict[str, int]:
    """KiB: VmRSS and its anonymous / file parts, and anonymous huge pages."""
    out = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key == "AnonHugePages":
                out[key] = int(value.split()[0])
    return out


def tcp_mem_pages() -> int:
    """The kernel's TCP buffer pages, machine-wide (``/proc/net/sockstat``): not in any process's RSS."""
    with open("/proc/net/sockstat") as handle:
        for line in handle:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1])
    return 0


def probe(pid: int, base: str, n: int, timeout: float = 60.0, collect: bool = False) -> dict[str, Any]:
    os.kill(pid, signal.SIGUSR2 if collect else signal.SIGUSR1)
    path = Path(f"{base}.{n}.json")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            time.sleep(0.2)  # the snapshot is written before the JSON
            try:
                return dict(json.loads(path.read_text()))
            except json.JSONDecodeError:
                continue
        time.sleep(0.1)
    raise TimeoutError(f"no memory report from {pid}")


async def open_sockets(port: int, scripts: list[list[tuple[str, str]]], count: int, every: int, pid: int) -> Any:
    """Open ``count`` sockets like ``bench.loadgen.connect_all``; sample RSS every ``every`` sockets."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    clients: list[WSClient] = []
    samples: list[tuple[int, dict[str, int]]] = [(0, rss_split(pid))]

    async def one(i: int) -> WSClient:
        _, client = await loop.create_connection(
            lambda: WSClient("127.0.0.1", port, "/api/v1/ws", scripts[i % len(scripts)], tally), "127.0.0.1", port
        )
        await asyncio.wait_for(client.ready, 30)
        return client

    clients.append(await one(0))
    await asyncio.sleep(0.3)
    for start in range(1, count, 50):
        clients += await asyncio.gather(*(one(i) for i in range(start, min(start + 50, count))))
        if (start - 1) % every == 0 or len(clients) == count:
            samples.append((len(clients), rss_split(pid)))
    return clients, samples


def per_socket_by_traceback(after: str, sockets: int, top: int) -> list[str]:
    """What is still allocated of what was allocated since tracing started (at the baseline), per socket."""
    new = tracemalloc.Snapshot.load(after)
    skip = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
    ]
    new = new.filter_traces(skip)
    lines = []
    for key in ("filename", "traceback"):
        diff = sorted(new.statistics(key), key=lambda s: -s.size)
        total = sum(d.size for d in diff)
        lines.append(f"-- by {key}: {total / sockets:,.0f} B per socket in all")
        for d in diff[:top]:
            if d.size < sockets * 16:
                break
            lines.append(f"{d.size / sockets:8,.0f} B/socket {d.count / sockets:6.2f} blocks/socket")
            for frame in list(d.traceback)[-1 : -1 - (8 if key == "traceback" else 1) : -1]:  # most recent first
                name = frame.filename.replace(str(venvs.ROOT), "").split("site-packages/")[-1]
                lines.append(f"      {name}:{frame.lineno}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(venvs.ROOT), help="checkout to serve (same venv)")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames in the server (0: off)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server only")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sf-idle-"))
    base = str(work / "mem")
    redis = procs.Redis(work)
    server = None
    try:
        socialflow.ROOT = Path(args.root)
        os.environ.update({"MEMPROBE_OUT": base, "MEMPROBE_TRACE": str(args.trace)})
        extra = dict(item.split("=", 1) for item in args.env)
        saved = {k: os.environ.get(k) for k in extra}
        os.environ.update(extra)
        server = socialflow.Server(
            redis, work, argv=[sys.executable, str(Path(__file__).with_name("memprobe.py")), "serve"]
        )
        for key, value in saved.items():  # the server has them; the load generator and Redis do not need them
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        pid = server.proc.pid
        # The fan-out run's setup before its baseline: 4 users through REST, a handshake probe, one publish.
        users = [server.register_login(f"fan{i}_{secrets.token_hex(3)}") for i in range(socialflow.FANOUT_USERS)]
        server.ws_status()
        body = {"channel": CHANNEL, "event": "bench.tick", "data": {"warm": 1}}
        server.http.post("/api/v1/realtime/publish", json=body, headers={"X-API-Key": server.api_key})
        time.sleep(0.3)
        before = probe(pid, base, 1)
        tcp0 = tcp_mem_pages()
        scripts = [wire.auth_subscribe_script(u["token"], CHANNEL) for u in users]
        import uvloop

        samples, after = uvloop.run(_hold(server.port, scripts, args.sockets, pid, base))
        tcp1 = tcp_mem_pages()
        n = args.sockets
        first, last = samples[0][1], samples[-1][1]
        half_n, half = next((c, s) for c, s in samples if c >= n // 2)
        print(f"checkout {args.root} ({socialflow.project_versions()['social-flow']}), {n} sockets, env {extra}")
        print(f"make bench's figure: (RSS after - before) / sockets = {(last['VmRSS'] - first['VmRSS']) / n:.2f} KiB")
        print(f"  RSS before {first['VmRSS'] / 1024:.1f} MiB, after {last['VmRSS'] / 1024:.1f} MiB")
        print(f"marginal RSS, sockets {half_n}..{n}: {(last['VmRSS'] - half['VmRSS']) / (n - half_n):.2f} KiB/socket")
        print("RSS samples (sockets: VmRSS KiB / RssAnon / AnonHugePages):")
        print("  " + ", ".join(f"{c}: {s['VmRSS']}/{s['RssAnon']}/{s.get('AnonHugePages', 0)}" for c, s in samples))
        mb, ma = before["mallinfo"], after["mallinfo"]
        print(
            "glibc heap (KiB): in use {:.0f} -> {:.0f}, free in arenas {:.0f} -> {:.0f}, mmapped {:.0f} -> {:.0f}, "
            "arena total {:.0f} -> {:.0f}".format(
                mb["uordblks"] / 1024,
                ma["uordblks"] / 1024,
                mb["fordblks"] / 1024,
                ma["fordblks"] / 1024,
                mb["hblkhd"] / 1024,
                ma["hblkhd"] / 1024,
                mb["arena"] / 1024,
                ma["arena"] / 1024,
            )
        )
        print(
            f"  per socket: malloc in use {(ma['uordblks'] - mb['uordblks']) / n:.0f} B, "
            f"heap free {(ma['fordblks'] - mb['fordblks']) / n:+.0f} B, "
            f"mmapped {(ma['hblkhd'] - mb['hblkhd']) / n:+.0f} B"
        )
        print(f"  gc collections per generation: {before['gc_collections']} -> {after['gc_collections']}")
        print(f"  threads {before['status_kib'].get('Threads')} -> {after['status_kib'].get('Threads')}")
        print(
            f"python objects per socket: {(after['gc_objects'] - before['gc_objects']) / n:.1f} gc-tracked, "
            f"{(after['blocks'] - before['blocks']) / n:.1f} allocated blocks"
        )
        grown = {t: after["types"].get(t, 0) - before["types"].get(t, 0) for t in after["types"]}
        print("  by type: " + ", ".join(f"{t} {c / n:.2f}" for t, c in sorted(grown.items(), key=lambda x: -x[1])[:15]))
        col = after["collected_report"]
        print(
            f"then gc.collect(): {col['collected'] / n:.1f} unreachable objects per socket; "
            f"RSS {(col['rss']['VmRSS'] - first['VmRSS']) / n:.2f} KiB per socket over the baseline, "
            f"malloc in use {(col['mallinfo']['uordblks'] - mb['uordblks']) / n:.0f} B per socket"
        )
        print(f"kernel TCP buffers (machine-wide, not in RSS): {(tcp1 - tcp0) * 4 / n:+.2f} KiB per socket")
        if "traced" in after:
            tb, ta = before["traced"], after["traced"]
            print(f"tracemalloc: {(ta['current'] - tb['current']) / n:,.0f} B per socket traced")
            for line in per_socket_by_traceback(f"{base}.2.snap", n, args.top):
                print(line)
    finally:
        if server is not None:
            server.stop()
        redis.stop()
    return 0


async def _hold(port: int, scripts: list[list[tuple[str, str]]], count: int, pid: int, base: str) -> Any:
    """Open the sockets, wait loadgen's ``settle_seconds``, read RSS and the server's report, then close them."""
    clients, samples = await open_sockets(port, scripts, count, 100, pid)
    await asyncio.sleep(1.0)
    samples[-1] = (samples[-1][0], rss_split(pid))
    after = await asyncio.to_thread(probe, pid, base, 2)
    after["collected_report"] = await asyncio.to_thread(probe, pid, base, 3, 60.0, True)
    after["collected_report"]["rss"] = rss_split(pid)
    for client in clients:
        client.close()
    return samples, after


if __name__ == "__main__":
    sys.exit(main())
