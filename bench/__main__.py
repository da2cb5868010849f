"""``python -m bench``: every stack side by side; prints the table, rewrites docs/benchmarks.md and its chart."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import fanout, procs, report, venvs
from bench.stacks import ALL_KEYS, PEER_STACKS, SOCIAL_FLOW_KEY


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--stacks", default=",".join(ALL_KEYS), help="comma-separated, of: " + ", ".join(ALL_KEYS))
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--step-seconds", type=float, default=1.5)
    parser.add_argument("--stack-seconds", type=float, default=60.0, help="budget of the rising steps per stack")
    parser.add_argument("--no-e2e", action="store_true", help="skip the post -> 1,000 followers end to end run")
    parser.add_argument("--no-feed", action="store_true", help="skip the home feed run")
    parser.add_argument(
        "--no-celebrity", action="store_true", help="skip the 10k (pushed) and 100k (pulled) follower post runs"
    )
    parser.add_argument("--no-video", action="store_true", help="skip the video runs (transcode, upload, segments)")
    parser.add_argument("--video-upload-mib", type=int, default=1024, help="size of the tus upload run")
    parser.add_argument("--video-only", action="store_true", help="only the video runs (implies --no-docs)")
    parser.add_argument("--no-live", action="store_true", help="skip the live room run (bench/live_room.py)")
    parser.add_argument(
        "--no-scaleout", action="store_true", help="skip 3 app nodes on one Valkey vs on a 3-shard cluster"
    )
    parser.add_argument(
        "--no-replica", action="store_true", help="skip home feed reads on the primary vs one streaming replica"
    )
    parser.add_argument("--no-docs", action="store_true", help="print the table only; leave docs/ alone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.monotonic()
    if procs.pinning():
        os.sched_setaffinity(0, {procs.CLIENT_CORE})  # the harness (and what it starts) stays off the server core
    keys = [k.strip() for k in args.stacks.split(",") if k.strip()]
    unknown = set(keys) - set(ALL_KEYS)
    if unknown:
        print(f"unknown stacks: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="sf-bench-"))
    settings: dict[str, Any] = {
        "sockets": args.sockets,
        "probes": args.probes,
        "step_seconds": args.step_seconds,
        "deadline_seconds": args.stack_seconds,
        "rates": fanout.default_rates(),
    }
    redis = procs.Redis(work)
    results: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"redis": redis.version()}
    if args.video_only:
        keys, args.no_e2e, args.no_feed, args.no_docs = [], True, True, True
        args.no_celebrity = args.no_replica = True
    timings: dict[str, float] = {}  # seconds per stage: where make bench's 8 minutes go
    extra["timings"] = timings
    try:
        for stack in PEER_STACKS:
            if stack.key in keys:
                print(f"[bench] {stack.label}", file=sys.stderr, flush=True)
                t0 = time.monotonic()
                results.append(fanout.run_peer(stack, redis, work, settings))
                timings[stack.key] = time.monotonic() - t0
        scaleout = not args.no_scaleout and not args.video_only
        social = not (args.no_e2e and args.no_feed and args.no_celebrity and args.no_replica)
        if SOCIAL_FLOW_KEY in keys or scaleout or social:
            from bench import socialflow

            redis.flush()
            t0 = time.monotonic()
            sf = socialflow.run(
                redis,
                work,
                settings,
                fanout=SOCIAL_FLOW_KEY in keys,
                e2e=not args.no_e2e,
                feed=not args.no_feed,
                celebrity=not args.no_celebrity,
                replica=not args.no_replica,
                scaleout=scaleout,
            )
            if SOCIAL_FLOW_KEY in keys:
                results.append(sf.pop("fanout"))
            parts = sf.pop("timings", {})
            timings.update({f"social_flow: {k}": v for k, v in parts.items()})
            timings["social_flow: server start and stop"] = time.monotonic() - t0 - sum(parts.values())
            extra.update(sf)
        if not args.no_video:
            from bench import video

            redis.flush()
            t0 = time.monotonic()
            extra["video"] = video.run(redis, work, upload_mib=args.video_upload_mib)
            timings["video"] = time.monotonic() - t0
        if not args.no_live:
            from bench import live_room

            print("[bench] one live room", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            rooms = live_room.run(
                # 4 s phases in make bench (10 s run alone): both stacks saturate their core within
                # seconds, and the run must fit make bench's 8 minutes with every other stage (491 s with
                # the peers' virtualenvs built and 6 s phases, at 4853637).
                redis,
                work,
                live_room.load_spec(live_room.parse(["--seconds", "4"])),
                ["social_flow", "node_ws"],
            )
            extra["live_room"] = live_room.table(rooms) + "\n\n" + live_room.NOTE
            timings["live room"] = time.monotonic() - t0
    finally:
        redis.stop()
    extra["seconds"] = time.monotonic() - started
    command = "make bench" if argv is None and len(sys.argv) == 1 else "python -m bench " + " ".join(sys.argv[1:])
    if os.environ.get("BENCH_SF_ROOT"):
        command = f"BENCH_SF_ROOT={os.environ['BENCH_SF_ROOT']} {command}"
    extra["argv"] = command
    out = venvs.BENCH / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (out / f"{stamp}.json").write_text(json.dumps({"results": results, "extra": extra}, indent=1))
    print(report.table(results))
    for line in report.extra_lines(extra):
        print(line)
    if not args.no_docs:
        report.write_docs(results, extra, work)
    print(f"[bench] seconds per stage: {report.timings_text(timings)}", file=sys.stderr)
    print(f"[bench] done in {extra['seconds']:.0f} s; logs in {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
