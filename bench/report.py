"""The table, docs/benchmarks.md and its chart, from a run's results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import venvs
from bench.stats import MIN_DELIVERED, Step, efficiency, max_sustained, ratio, step_near

DOC = venvs.ROOT / "docs" / "benchmarks.md"
CHART = venvs.ROOT / "docs" / "benchmarks.png"
LATENCY_AT = 20_000.0


def steps_of(result: dict[str, Any]) -> list[Step]:
    keys = ("offered", "seconds", "expected", "delivered", "p50_ms", "p99_ms", "samples")
    optional = ("client_cpu", "server_cpu", "per_cpu_second")
    return [Step(**{k: s[k] for k in keys}, **{k: s[k] for k in optional if k in s}) for s in result.get("steps", [])]


def figures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stack: max sustained, latency at 20k, idle memory, ratio to the ceiling."""
    rows = []
    ceiling_result = next((r for r in results if not r.get("through_redis", True)), None)
    ceiling = max_sustained(steps_of(ceiling_result)) if ceiling_result else None
    ceiling_eff = efficiency(steps_of(ceiling_result)) if ceiling_result else None
    for r in results:
        steps = steps_of(r)
        best = max_sustained(steps)
        at = step_near(steps, LATENCY_AT)
        top = steps[-1] if steps else None
        rows.append(
            {
                "key": r["key"],
                "label": r["label"],
                "max": best,
                "ratio": ratio(best, ceiling),
                "eff": efficiency(steps),
                "eff_ratio": ratio(efficiency(steps), ceiling_eff),
                "server_cpu": top.server_cpu if top else None,
                "p50": at.p50_ms if at else None,
                "p99": at.p99_ms if at else None,
                "at_ok": at.sustained if at else None,
                "kib": r.get("idle_kib"),
                "frame": r.get("frame_bytes"),
                "client_cpu": top.client_cpu if top else None,
                "limit": _limit(top, r),
                "error": r.get("error") or r.get("pending"),
            }
        )
    return rows


def _limit(top: Step | None, r: dict[str, Any]) -> str:
    """Why the steps stopped: the rule that failed, the time budget, or the last rate."""
    if top is None:
        return "no steps"
    if top.sustained:
        return "deadline" if r.get("stopped") == "deadline" else "top step passed"
    # A load generator with its core full measured itself as much as the server: say so.
    client = f" (load generator core {top.client_cpu:.0%})" if top.client_cpu >= 0.95 else ""
    if top.expected and top.delivered / top.expected < MIN_DELIVERED:
        return f"{top.delivered / top.expected:.0%} delivered at {top.offered:,.0f}/s{client}"
    return f"p99 {top.p99_ms or 0:.0f} ms at {top.offered:,.0f}/s{client}"


def _n(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


HEADER = (
    "| stack | frame B | max sustained deliveries/s | × ceiling | deliveries per server CPU-s | × ceiling "  # noqa: RUF001
    "| p50 @20k (ms) | p99 @20k (ms) | KiB / idle socket | server / client CPU (top step) | stopped by |"
)


def table(results: list[dict[str, Any]]) -> str:
    lines = [HEADER, "|" + " --- |" * 11]
    for row in figures(results):
        stopped = row["error"] or row["limit"]
        lines.append(
            f"| {row['label']} | {_n(row['frame'])} | {_n(row['max'])} | {_n(row['ratio'], '{:.2f}')} | "
            f"{_n(row['eff'])} | {_n(row['eff_ratio'], '{:.2f}')} | "
            f"{_n(row['p50'], '{:.1f}')} | {_n(row['p99'], '{:.1f}')} | {_n(row['kib'], '{:.1f}')} | "
            f"{_n(row['server_cpu'], '{:.0%}')} / {_n(row['client_cpu'], '{:.0%}')} | {stopped} |"
        )
    return "\n".join(lines)


def extra_lines(extra: dict[str, Any]) -> list[str]:
    """One line each for the end to end run, the home feed and its ceiling."""
    lines = []
    e2e = extra.get("e2e")
    if isinstance(e2e, dict):
        lines.append("end to end: " + (e2e.get("pending") or e2e.get("error") or e2e.get("summary", "")))
    for name, label in (("feed", "home feed"), ("feed_ceiling", "bare Litestar JSON")):
        section = extra.get(name)
        if isinstance(section, dict):
            lines.append(f"{label}: " + feed_text(section))
    lines += [f"celebrity: {line}" for line in celebrity_lines(extra.get("celebrity"))]
    if isinstance(extra.get("scaleout_nodes"), dict):
        from bench.scaleout_nodes import summary as nodes_summary

        lines.append("past one Redis: " + nodes_summary(extra["scaleout_nodes"]))
    if isinstance(extra.get("replica"), dict):
        from bench.replica import summary as replica_summary

        lines += [f"past one PostgreSQL: {line}" for line in replica_summary(extra["replica"])]
    if isinstance(extra.get("video"), dict):
        from bench.video import summary

        lines += summary(extra["video"])
    feed = extra.get("feed")
    if isinstance(feed, dict) and "ads_on" in feed:
        from bench.ads_feed import compare

        lines.append("home feed with ads on (1,000 campaigns): " + feed_text(feed["ads_on"]))
        lines.append("ads cost on the home feed: " + compare(feed, feed["ads_on"]))
    return lines


def timings_text(timings: dict[str, float]) -> str:
    """``stage 12 s, ...``: where the run's time went (make bench must stay within 8 minutes)."""
    return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()) or "—"


def celebrity_lines(section: Any) -> list[str]:
    """One line per celebrity run: sockets within 1 s, feeds within 10 s, others' feed p99 within 2x."""
    if not isinstance(section, dict):
        return []
    if "runs" not in section:
        return [str(section.get("pending") or section.get("error") or "not run")]
    lines = []
    for run in section["runs"]:
        head = f"{run['followers']:,} followers ({'pulled at read time' if run.get('pulled') else 'pushed'})"
        if run.get("error"):
            lines.append(f"{head}: {run['error']}")
            continue
        before, during = run.get("others_p99_before_ms"), run.get("others_p99_during_ms")
        ratio = during / before if before and during else None
        lines.append(
            f"{head}: {run['delivered']}/{run['online']} online sockets got it, last after "
            f"{_n(run.get('socket_last_ms'), '{:.0f}')} ms (p50 {_n(run.get('socket_p50_ms'), '{:.0f}')} ms; goal "
            f"all ≤ 1 s); {run['feed_seen']}/{run['readers']} followers' home feeds showed it, last after "
            f"{_n(run.get('feed_last_ms'), '{:.0f}')} ms (goal ≤ 10 s); others' feed p99 "
            f"{_n(before, '{:.1f}')} ms before (n={run.get('others_before_n', '?')}), {_n(during, '{:.1f}')} ms during "
            f"(n={run.get('others_during_n', '?')}; {_n(ratio, '{:.2f}')}x; goal ≤ 2x) "
            f"at {run['others_rate']:.0f} req/s; POST {run['rest_ms']:.0f} ms; setup {run['setup_seconds']:.0f} s"
        )
    return lines


def video_lines(extra: dict[str, Any]) -> list[str]:
    from bench.video import summary

    section = extra.get("video")
    return [f"- {line}" for line in summary(section)] if isinstance(section, dict) else ["Not run (`--no-video`)."]


def feed_text(section: dict[str, Any]) -> str:
    if "steps" not in section:
        return str(section.get("pending") or section.get("error") or "not run")
    steps = steps_of(section)
    at = step_near(steps, 300.0)
    return (
        f"max sustained {_n(max_sustained(steps))} req/s ({_n(efficiency(steps))} per server CPU-s); at 300 req/s p50 "
        f"{_n(at.p50_ms if at else None, '{:.1f}')} ms, p99 {_n(at.p99_ms if at else None, '{:.1f}')} ms"
        f" ({_limit(steps[-1], section) if steps else 'no steps'})"
    )


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def draw(results: list[dict[str, Any]], work: Path) -> str | None:
    """Draw the chart in the bench-only plotting virtualenv; return an error text or None."""
    data = work / "chart.json"
    data.write_text(json.dumps({"rows": figures(results), "results": results}))
    try:
        python = venvs.ensure("plot")
        done = subprocess.run(  # noqa: S603
            [str(python), str(venvs.BENCH / "plot.py"), str(data), str(CHART)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except Exception as exc:  # no chart is not a reason to lose the table
        return str(exc)
    return None if done.returncode == 0 else done.stderr[-500:]


def feed_row(label: str, result: dict[str, Any] | None) -> str:
    if not result or "steps" not in result:
        why = (result or {}).get("pending") or (result or {}).get("error") or "not run"
        return f"| {label} | — | — | — | — | {why} |"
    steps = steps_of(result)
    at = step_near(steps, 300.0)
    best = max_sustained(steps)
    return (
        f"| {label} | {_n(best)} | {_n(efficiency(steps))} | {_n(at.p50_ms if at else None, '{:.1f}')} | "
        f"{_n(at.p99_ms if at else None, '{:.1f}')} | {_limit(steps[-1], result) if steps else ''} |"
    )


def steps_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| offered/s | delivered/s | delivered | p50 (ms) | p99 (ms) | server CPU | per server CPU-s "
        "| client CPU | sustained |"
    ]
    lines.append("|" + " --- |" * 9)
    for s in steps_of(result):
        share = s.delivered / s.expected if s.expected else 0
        lines.append(
            f"| {s.offered:,.0f} | {s.achieved:,.0f} | {share:.1%} | {_n(s.p50_ms, '{:.1f}')} | "
            f"{_n(s.p99_ms, '{:.1f}')} | {s.server_cpu:.0%} | {_n(s.per_cpu_second)} | {s.client_cpu:.0%} | "
            f"{'yes' if s.sustained else 'no'} |"
        )
    return lines


def targets(results: list[dict[str, Any]], extra: dict[str, Any]) -> list[str]:
    """Social Flow against the issue's targets: met, missed, or pending."""
    rows = {r["key"]: r for r in figures(results)}
    sf = rows.get("social_flow")
    if not sf or sf["max"] is None:
        why = (sf or {}).get("error") or "Social Flow was not measured"
        return [f"- Fan-out targets: **pending** ({why})."]

    def verdict(ok: bool | None) -> str:
        return "pending" if ok is None else ("met" if ok else "missed")

    def times(other: str) -> str:
        peer = rows.get(other)
        if not peer:
            return f"- ≥ 3× {other}: pending (not measured)"  # noqa: RUF001
        by_rate = f"{sf['max'] / peer['max']:.2f}× by max sustained" if peer["max"] else "it sustained no step"  # noqa: RUF001
        by_cpu = ratio(sf["eff"], peer["eff"])
        ok = (sf["max"] >= 3 * peer["max"]) if peer["max"] else (by_cpu is not None and by_cpu >= 3)
        return f"- ≥ 3× {other}: {verdict(ok)} ({by_rate}; {_n(by_cpu, '{:.2f}')}× per server CPU-second)"  # noqa: RUF001

    out = [
        f"- ≥ 0.7× the ceiling: {verdict(None if sf['ratio'] is None else sf['ratio'] >= 0.7)} "  # noqa: RUF001
        f"({_n(sf['ratio'], '{:.2f}')}× by max sustained; {_n(sf['eff_ratio'], '{:.2f}')}× per server CPU-second)",  # noqa: RUF001
        times("socketio"),
        times("django_channels"),
        f"- p99 ≤ 25 ms at 20k deliveries/s: {verdict(None if sf['p99'] is None else sf['p99'] <= 25)} "
        f"({_n(sf['p99'], '{:.1f}')} ms)",
        f"- ≤ 16 KiB per idle socket: {verdict(None if sf['kib'] is None else sf['kib'] <= 16)} "
        f"({_n(sf['kib'], '{:.1f}')} KiB)",
    ]
    # Issue 15's fan-out goals, as ratios in this run.
    node = rows.get("node_ws")
    if node and node["max"]:
        by_cpu = ratio(sf["eff"], node["eff"])
        out.append(
            f"- peak ≥ 1.2× Node ws + Redis: {verdict(sf['max'] >= 1.2 * node['max'])} "  # noqa: RUF001
            f"({sf['max'] / node['max']:.2f}× by max sustained; {_n(by_cpu, '{:.2f}')}× per server CPU-second)"  # noqa: RUF001
        )
    else:
        out.append("- peak ≥ 1.2× Node ws + Redis: pending (Node ws not measured)")  # noqa: RUF001
    ceiling = rows.get("ws_ceiling")
    if ceiling and ceiling["p99"] and sf["p99"] is not None:
        rel = sf["p99"] / ceiling["p99"]
        out.append(f"- p99 at 20k ≤ 1.5× the ceiling's: {verdict(rel <= 1.5)} ({rel:.2f}×)")  # noqa: RUF001
    out.append(
        f"- ≤ 8 KiB per idle socket: {verdict(None if sf['kib'] is None else sf['kib'] <= 8)} "
        f"({_n(sf['kib'], '{:.1f}')} KiB; Node ws {_n((node or {}).get('kib'), '{:.1f}')} KiB)"
    )
    feed = extra.get("feed") or {}
    at = step_near(steps_of(feed), 300.0) if "steps" in feed else None
    if "steps" not in feed:
        out.append(f"- Home feed p99 ≤ 15 ms at 300 req/s: pending ({feed.get('pending') or feed.get('error')})")
    elif at is None:
        best = max_sustained(steps_of(feed))
        reached = f"it sustained {_n(best)} req/s at most" if best else "it sustained not even the lowest step"
        out.append(f"- Home feed p99 ≤ 15 ms at 300 req/s: missed ({reached})")
    else:
        ok = at.p99_ms is not None and at.p99_ms <= 15 and at.sustained
        out.append(f"- Home feed p99 ≤ 15 ms at 300 req/s: {verdict(ok)} ({_n(at.p99_ms, '{:.1f}')} ms)")
    bare = extra.get("feed_ceiling") or {}
    if "steps" in feed and "steps" in bare:
        mine, theirs = max_sustained(steps_of(feed)), max_sustained(steps_of(bare))
        share = ratio(mine, theirs)
        out.append(
            f"- Home feed max RPS ≥ 40% of a bare Litestar JSON endpoint's: "
            f"{verdict(None if share is None else share >= 0.4)} ({_n(mine)} vs {_n(theirs)} req/s; "
            f"{_n(share, '{:.0%}')})"
        )
    return out


def write_docs(results: list[dict[str, Any]], extra: dict[str, Any], work: Path) -> None:
    """Rewrite docs/benchmarks.md (and the chart) from this run."""
    chart_error = draw(results, work)
    m = machine()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    md = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {when} ({extra.get('seconds', 0):.0f} s). Rerun it to refresh this page;",
        "edits by hand are overwritten.",
        "",
        "**Noise.** This is a 2-core machine that may be shared with other work; the *server CPU* column",
        "shows how much of its pinned core each server actually got. Absolute rates move between runs (see",
        "*Spread between runs*): compare stacks on **deliveries per server CPU-second** (frames delivered",
        "divided by the CPU time the server process got, at its max sustained step) and on the ratios.",
        "",
        "## Command",
        "",
        f"    {extra.get('argv', 'make bench')}",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu']}, {m['memory']} RAM, Linux {m['kernel']}, Python {m['python']}.",
        "",
        f"Seconds per stage: {timings_text(extra.get('timings') or {})}.",
        "",
        "## Fan-out: 1,000 sockets on one channel",
        "",
        "Max sustained = deliveries/s of the highest step with ≥ 99% of frames delivered and p99 < 250 ms.",
        "",
        table(results),
        "",
    ]
    if chart_error is None:
        md += ["![deliveries/s and p99 per stack](benchmarks.png)", ""]
    else:
        md += [f"(No chart this run: {chart_error.strip().splitlines()[-1] if chart_error.strip() else 'error'})", ""]
    if os.environ.get("BENCH_SF_NOTE"):
        md += [f"**Social Flow build measured:** {os.environ['BENCH_SF_NOTE']}", ""]
    md += ["### Social Flow against its targets", "", *targets(results, extra), ""]
    md += ["## End to end: a post reaching 1,000 online followers", ""]
    e2e = extra.get("e2e") or {}
    md += [e2e.get("summary") or f"**Pending:** {e2e.get('pending') or e2e.get('error') or 'not run'}", ""]
    md += [
        "## Home feed (open loop, latency from the scheduled send time)",
        "",
        "| endpoint | max sustained req/s | req per server CPU-s | p50 @300 (ms) | p99 @300 (ms) | stopped by |",
        "| --- | --- | --- | --- | --- | --- |",
        feed_row("Social Flow `GET /api/v1/feeds/home`", extra.get("feed")),
        feed_row("bare Litestar JSON endpoint (ceiling)", extra.get("feed_ceiling")),
        feed_row("Social Flow home feed, ads on (1,000 active campaigns)", (extra.get("feed") or {}).get("ads_on")),
        "",
        f"Data set: {(extra.get('feed') or {}).get('data_set', '—')}.",
        "",
        f"Ads on the home feed, same server and load: {_ads_cost(extra.get('feed') or {})}.",
        "",
        "## Celebrity posts (same server, after the feed run; `SOCIAL_CELEBRITY_THRESHOLD` 50,000)",
        "",
        *([f"- {line}" for line in celebrity_lines(extra.get("celebrity"))] or ["Not run (`--no-celebrity`)."]),
        "",
        "## Video (transcode, tus upload, segment serving)",
        "",
        *video_lines(extra),
        "",
    ]
    md += ["## Past one Redis: 3 app nodes on one Valkey vs a 3-shard cluster (`bench/scaleout_nodes.py`)", ""]
    if isinstance(extra.get("scaleout_nodes"), dict):
        from bench.scaleout_nodes import summary as nodes_summary

        md += [nodes_summary(extra["scaleout_nodes"]), ""]
        for layout in ("single", "cluster"):
            section = extra["scaleout_nodes"].get(layout) or {}
            if section.get("steps"):
                md += [f"Steps, {'one Valkey' if layout == 'single' else '3-shard cluster'}:", ""]
                md += [*steps_table(section), ""]
    else:
        md += ["Not run (`--no-scaleout`).", ""]
    md += ["## Past one PostgreSQL: home feed reads on a streaming replica (`bench/replica.py`)", ""]
    if isinstance(extra.get("replica"), dict):
        from bench.replica import summary as replica_summary

        md += [f"- {line}" for line in replica_summary(extra["replica"])] + [""]
    else:
        md += ["Not run (`--no-replica`).", ""]
    if extra.get("live_room"):
        md += ["## One live room: 5,000 viewers, 50 chat/s + 500 reactions/s (`bench/live_room.py`)", ""]
        md += [extra["live_room"], ""]
    md += ["## Steps per stack", ""]
    for r in results:
        if r.get("steps"):
            md += [f"### {r['label']}", "", *steps_table(r), ""]
            if r.get("idle_kib") is not None:
                md += [
                    f"Idle: RSS {r['rss_before'] / 2**20:.1f} MiB before, {r['rss_after'] / 2**20:.1f} MiB after "
                    f"{r['sockets']} sockets (opened in {r.get('connect_seconds', 0):.1f} s).",
                    "",
                ]
    md += spread()
    md += ["## Versions", "", f"- Redis: {extra.get('redis', '?')} (one server, flushed before each stack)"]
    for r in results:
        versions = ", ".join(f"{k} {v}" for k, v in r.get("versions", {}).items())
        md.append(f"- {r['label']}: {versions}")
    md += ["", METHOD]
    DOC.write_text("\n".join(md) + "\n" + kept_notes())


#: Everything after this line in docs/benchmarks.md is written by hand (profiles, before/after figures)
#: and kept as it is when `make bench` rewrites the generated part above it.
NOTES_MARKER = "<!-- Hand-written notes below this line are kept by `make bench`. -->"


def kept_notes() -> str:
    try:
        text = DOC.read_text()
    except OSError:
        return "\n" + NOTES_MARKER + "\n"
    _, found, tail = text.partition(NOTES_MARKER)
    return "\n" + NOTES_MARKER + (tail if found else "\n")


METHOD = """## Method

- `python -m bench` (`make bench`) starts one Valkey/Redis server and, one stack at a time, the server under test
  pinned to core 0 (`taskset -c 0`); the load generator, Redis, PostgreSQL and the harness run on core 1.
- Peers live in `bench/peers/<name>/` with pinned `requirements.txt`, each installed into its own virtualenv
  under `bench/.peers/<name>` on first run. Everything but the ceiling is served by the same uvicorn with
  uvloop, httptools and the websockets sans-I/O protocol (uvicorn's `auto`, which Social Flow uses too),
  per-message deflate off and websocket pings off. The two Node peers (`bench/peers/node/`: `ws` with one
  ioredis subscriber forwarding every message to every socket, Mastodon streaming's design; socket.io 4
  with `@socket.io/redis-adapter`, published to with `@socket.io/redis-emitter`) are installed with
  `npm ci` from the committed `package-lock.json` into `bench/.peers/node` and run on the machine's Node,
  one process, pinned like the others, deflate off, pings off (socket.io: one an hour).
- Every stack except the ceiling publishes through Redis: the load generator POSTs a ~100-byte JSON payload
  to the stack's own publish endpoint (Social Flow: `POST /api/v1/realtime/publish` with `X-API-Key`), the
  stack publishes it to Redis, and its subscriber fans it out to 1,000 sockets. The ceiling
  (`websockets.broadcast()`, no Redis) receives the payload as a frame on a publisher socket instead.
- The load generator is one asyncio + uvloop process with a minimal websocket client: 950 sockets count
  frames, 50 probes parse the send time (host monotonic clock) out of every frame. Steps of rising
  publish rate last a few seconds each, 5k, 10k, 20k, 40k, 60k, 80k, 100k deliveries/s, then ×1.25 up to
  a cap of 4M/s; a stack stops at its first step that is not sustained, so every row says what stopped it.
- KiB per idle socket = (server RSS after opening the 1,000 sockets − RSS before) / 1,000 (psutil).
- Server CPU = CPU seconds of the server process over a step / the step's wall time (psutil); deliveries
  per server CPU-second divides the frames delivered by those CPU seconds. A failed step is retried once
  when the server got under 90% of its core, so one burst from a neighbour does not end a stack early; a
  server that had its core and failed is saturated.
- Home feed: a fixed-rate (open-loop, wrk2-style) generator on keep-alive connections; each request's
  latency counts from when it was scheduled, so a stalled server cannot hide queueing. Rates 100, 200,
  300, 500, 800 req/s, then ×1.5 up to 32,000; the bare endpoint skips 100–800 except 300 (it sustains them).
- Past one Redis (`bench/scaleout_nodes.py`): 3 app nodes (`python -m server serve`) on one Valkey, then on a
  3-shard Valkey Cluster, 1,000 sockets spread over them, publishes round-robin through their publish API;
  every process of this step (nodes, Valkey, load generator) may use both cores. The CPU share of the Valkey
  server(s) at the step that stopped each layout says whether Redis was the bottleneck.
- Past one PostgreSQL (`bench/replica.py`): after the celebrity runs, a hot standby of the primary
  (`pg_basebackup`, on core 1 with the primary); the same home feed load on the primary only, then with
  `DATABASE_REPLICA_URLS` (the server freshly restarted for each); the replica's share of reads from `/metrics`; both
  PostgreSQL process trees' CPU per step; replica lag = from a post's 201 to its row on the standby.

Known deviations, kept visible rather than hidden:
- Social Flow's event envelope (`type`, `channel`, `offset`, `epoch`, `event`) makes its frames larger than
  the peers' (see "frame B"); the `data` object is the same ~100 bytes.
- `python -m server serve` keeps its production websocket pings (every 20 s); steps are shorter than that.
- Social Flow's 1,000 sockets share the tokens of 4 users registered and logged in through REST (each
  REST registration costs an argon2 hash, ~0.4 s here). The end to end run's 1,000 followers are created
  in bulk with one shared password hash and sessions opened by the accounts service (`bench/sf_users.py`),
  then follow the author through the REST API.
- The client core also runs Redis; "client CPU" near 100% means the number is bound by the load
  generator, not the server.
"""  # noqa: RUF001


def spread(limit: int = 6) -> list[str]:
    """Per-CPU-second ratios to the ceiling over the last full runs kept in bench/results (this machine)."""
    runs = []
    for path in sorted((venvs.BENCH / "results").glob("*.json"))[::-1]:
        try:
            results = json.loads(path.read_text())["results"]
        except (OSError, ValueError, KeyError):
            continue
        rows = {r["key"]: r for r in figures(results)}
        if len(results) >= 5 and (rows.get("ws_ceiling") or {}).get("eff_ratio") is not None:
            runs.append((path.stem, rows))
        if len(runs) == limit:
            break
    if len(runs) < 2:
        return []
    keys = list(runs[0][1])
    lines = [
        "## Spread between runs",
        "",
        "Deliveries per server CPU-second as a ratio to the ceiling, for the last full runs on this machine",
        "(newest first; from `bench/results/`, which is not committed). The spread is the noise.",
        "",
        "| stack | " + " | ".join(stamp for stamp, _ in runs) + " |",
        "|" + " --- |" * (len(runs) + 1),
    ]
    for key in keys:
        cells = [_n((rows.get(key) or {}).get("eff_ratio"), "{:.2f}") for _, rows in runs]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _ads_cost(feed: dict[str, Any]) -> str:
    from bench.ads_feed import compare

    return compare(feed, feed.get("ads_on"))
