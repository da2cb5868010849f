"""One live room under load: ``python -m bench.live_room`` (also run by ``make bench`` unless ``--no-live``).

5,000 viewers on one server process, 50 chat messages/s and 500 reactions/s: chat delivery p50/p99 at
probe sockets, the server's share of a core with chat alone and with reactions added (the difference is
what reactions cost), for Social Flow (chat stored and sent through the outbox, reactions coalesced
across nodes) and for the same room on Node ``ws`` + Redis (``bench/peers/node/live_room.js``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import procs, venvs

HOOK_SECRET = secrets.token_urlsafe(24)  # the bench's own server and media-server stand-in share it


def run_load(spec: dict[str, Any], work: Path, name: str) -> dict[str, Any]:
    path = work / f"live_{name}.spec.json"
    path.write_text(json.dumps(spec))
    argv = procs.pinned(procs.CLIENT_CORE, [sys.executable, "-m", "bench.live_room_load", str(path)])
    # Bounded, so the room keeps to its share of make bench's budget: connecting the viewers (~20 s for
    # 5,000 on a quiet machine), two phases, and at most 10 s of drain after each.
    limit = 90 + 2 * (spec["seconds"] + 12) + spec["viewers"] / 100
    done = subprocess.run(argv, cwd=venvs.ROOT, stdout=subprocess.PIPE, timeout=limit, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"live room load generator failed with {done.returncode}")
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def social_flow(redis: procs.Redis, work: Path, load: dict[str, Any]) -> dict[str, Any]:
    from bench.socialflow import Server

    # The room's own limits stay on; only the per-socket command rate and per-user chat limit are lifted so
    # that a handful of sender sockets can offer the whole rate.
    os.environ.update(
        {"LIVE_HOOK_SECRET": HOOK_SECRET, "REALTIME_COMMAND_RATE": "2000", "LIVE_CHAT_LIMIT": "100000/10"}
    )
    result: dict[str, Any] = {"key": "social_flow", "label": "Social Flow (room on live:{id}, Redis)"}
    server = Server(redis, work)
    try:
        owner = server.register_login("streamer")
        auth = {"Authorization": f"Bearer {owner['token']}"}
        server.http.post("/api/v1/creators/enroll", headers=auth).raise_for_status()
        stream = server.http.post("/api/v1/live", json={"title": "bench"}, headers=auth).json()
        form = {"call": "publish", "name": stream["ingest"]["stream_key"], "app": "live", "clientid": "1"}
        res = server.http.post("/api/v1/live/hooks/publish", data=form, headers={"X-Live-Hook-Secret": HOOK_SECRET})
        assert res.status_code == 302, res.text
        users = server.bulk_users(40, "viewer")
        spec = {**load, "port": server.port, "channel": f"live:{stream['id']}", "server_pid": server.proc.pid}
        spec["tokens"] = [u["token"] for u in users]
        result.update(run_load(spec, work, "social_flow"))
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
    return result


def node_ws(redis: procs.Redis, work: Path, load: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"key": "node_ws_room", "label": "Node ws + Redis (same room, no storage)"}
    ensure_node = getattr(venvs, "ensure_node", None)
    if ensure_node is None:
        result["pending"] = "the Node peers' installer (bench/venvs.ensure_node) is not on this branch yet"
        return result
    modules = ensure_node("node")
    redis.flush()
    port = procs.free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": redis.url, "NODE_PATH": str(modules)}
    script = venvs.PEERS / "node" / "live_room.js"
    proc = procs.start(["node", str(script)], env, work / "node_live_room.log", procs.SERVER_CORE)
    try:
        procs.wait_port(port, proc)
        spec = {**load, "port": port, "ws_path": "/ws", "channel": "live:1", "server_pid": proc.pid}
        spec["tokens"] = [f"token-{i:08d}" for i in range(40)]
        result.update(run_load(spec, work, "node_ws"))
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        procs.stop(proc)
    return result


def run(redis: procs.Redis, work: Path, load: dict[str, Any], stacks: list[str]) -> list[dict[str, Any]]:
    out = []
    for key, stack in (("social_flow", social_flow), ("node_ws", node_ws)):
        if key in stacks:
            started = time.monotonic()
            redis.flush()
            out.append(stack(redis, work, load))
            out[-1]["seconds"] = round(time.monotonic() - started, 1)
            print(f"[bench] live room, {key}: {out[-1]['seconds']:.0f} s", file=sys.stderr, flush=True)
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| stack | viewers | chat p50 / p99 (chat only) | chat p50 / p99 (with reactions) | core: chat "
        "| core: + reactions | reactions' share | reaction events per probe |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if "chat_only" not in r:
            lines.append(f"| {r['label']} | {r.get('error') or r.get('pending')} | | | | | | |")
            continue
        a, b = r["chat_only"], r["chat_and_reactions"]
        lines.append(
            f"| {r['label']} | {r['viewers']} | {a['p50_ms']} / {a['p99_ms']} ms | {b['p50_ms']} / {b['p99_ms']} ms "
            f"| {a['server_core_share']:.0%} | {b['server_core_share']:.0%} | {r['reactions_core_share']:.1%} "
            f"| {b['reactions_events_per_probe']:.0f} ({b['reactions_counted_per_probe']:.0f} counted) |"
        )
    return "\n".join(lines)


def load_spec(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "ws_path": "/api/v1/ws",
        "viewers": args.viewers,
        "probes": min(args.probes, args.viewers),
        "chat_rate": args.chat_rate,
        "reaction_rate": args.reaction_rate,
        "chat_senders": 5,
        "reaction_senders": 10,
        "seconds": args.seconds,
    }


NOTE = (
    "Chat p50/p99: from a sender's publish to a probe socket's receipt (50 probes among the viewers). Core: the "
    "server process's CPU seconds per second in each phase; *reactions' share* is the difference between the "
    "two phases. Social Flow stores every chat line and sends it through the transactional outbox; the Node peer "
    "(`bench/peers/node/live_room.js`) publishes straight to Redis and stores nothing. Run alone: "
    "`python -m bench.live_room [--viewers N --seconds S --stacks social_flow,node_ws]`."
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.live_room", description=__doc__)
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--chat-rate", type=float, default=50.0)
    parser.add_argument("--reaction-rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each of the two phases")
    parser.add_argument("--stacks", default="social_flow,node_ws")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if procs.pinning():
        os.sched_setaffinity(0, {procs.CLIENT_CORE})
    work = Path(tempfile.mkdtemp(prefix="sf-live-bench-"))
    redis = procs.Redis(work)
    try:
        results = run(redis, work, load_spec(args), [s.strip() for s in args.stacks.split(",")])
    finally:
        redis.stop()
    (work / "live_room.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    print(f"[bench] live room: raw results in {work / 'live_room.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
