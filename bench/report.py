"""The table, docs/benchmarks.md and its chart, from a run's results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench import venvs
from bench.stats import MIN_DELIVERED, Step, max_sustained, ratio, step_near

DOC = venvs.ROOT / "docs" / "benchmarks.md"
CHART = venvs.ROOT / "docs" / "benchmarks.png"
LATENCY_AT = 20_000.0


def steps_of(result: dict[str, Any]) -> list[Step]:
    keys = ("offered", "seconds", "expected", "delivered", "p50_ms", "p99_ms", "samples", "client_cpu")
    return [Step(**{k: s[k] for k in keys}) for s in result.get("steps", [])]


def figures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stack: max sustained, latency at 20k, idle memory, ratio to the ceiling."""
    rows = []
    ceiling = next((max_sustained(steps_of(r)) for r in results if not r.get("through_redis", True)), None)
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
    if top.expected and top.delivered / top.expected < MIN_DELIVERED:
        return f"{top.delivered / top.expected:.0%} delivered at {top.offered:,.0f}/s"
    return f"p99 {top.p99_ms or 0:.0f} ms at {top.offered:,.0f}/s"


def _n(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


HEADER = (
    "| stack | frame B | max sustained deliveries/s | × ceiling | p50 @20k (ms) | p99 @20k (ms) "
    "| KiB / idle socket | client CPU (top step) | stopped by |"
)


def table(results: list[dict[str, Any]]) -> str:
    lines = [HEADER, "|" + " --- |" * 9]
    for row in figures(results):
        stopped = row["error"] or row["limit"]
        lines.append(
            f"| {row['label']} | {_n(row['frame'])} | {_n(row['max'])} | {_n(row['ratio'], '{:.2f}')} | "
            f"{_n(row['p50'], '{:.1f}')} | {_n(row['p99'], '{:.1f}')} | {_n(row['kib'], '{:.1f}')} | "
            f"{_n(row['client_cpu'], '{:.0%}')} | {stopped} |"
        )
    return "\n".join(lines)


def extra_lines(extra: dict[str, Any]) -> list[str]:
    lines = []
    for name in ("e2e", "feed"):
        section = extra.get(name)
        if isinstance(section, dict):
            lines.append(f"{name}: " + (section.get("pending") or section.get("error") or section.get("summary", "")))
    return lines


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
        done = subprocess.run(
            [str(python), str(venvs.BENCH / "plot.py"), str(data), str(CHART)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except Exception as exc:  # no chart is not a reason to lose the table
        return str(exc)
    return None if done.returncode == 0 else done.stderr[-500:]
