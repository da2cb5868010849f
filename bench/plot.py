"""Draw docs/benchmarks.png: run by the bench-only plotting virtualenv (matplotlib), never the project venv.

Usage: ``python bench/plot.py DATA.json OUT.png`` where DATA holds ``{"rows": [...], "results": [...]}``.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(data_path, out_path):
    with open(data_path) as handle:
        data = json.load(handle)
    rows = [r for r in data["rows"] if r.get("max") or r.get("eff")]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.4))
    labels = [r["key"] for r in rows]
    ys = list(range(len(rows)))
    height = 0.38
    sustained = [r.get("max") or 0 for r in rows]
    per_cpu = [r.get("eff") or 0 for r in rows]
    colors = ["#d62728" if k == "social_flow" else ("#7f7f7f" if k == "ws_ceiling" else "#1f77b4") for k in labels]
    a = left.barh([y - height / 2 for y in ys], sustained, height, color=colors, label="max sustained deliveries/s")
    b = left.barh(
        [y + height / 2 for y in ys],
        per_cpu,
        height,
        color=colors,
        alpha=0.45,
        hatch="//",
        label="deliveries per server CPU-second",
    )
    left.bar_label(a, labels=[f"{v:,.0f}" if v else "none sustained" for v in sustained], padding=3, fontsize=7)
    left.bar_label(b, labels=[f"{v:,.0f}" for v in per_cpu], padding=3, fontsize=7)
    left.set_yticks(ys, labels)
    left.invert_yaxis()
    left.set_xlabel("1,000 sockets on one channel, server pinned to one core")
    left.set_title("Fan-out throughput")
    left.set_xlim(0, max(sustained + per_cpu + [1]) * 1.3)
    left.legend(fontsize=8, loc="lower right")
    for result in data["results"]:
        steps = [s for s in result.get("steps", []) if s.get("p99_ms") is not None]
        if steps:
            right.plot(
                [s["offered"] for s in steps],
                [s["p99_ms"] for s in steps],
                marker="o",
                label=result["key"],
                linewidth=2.5 if result["key"] == "social_flow" else 1.2,
            )
    right.axhline(250, color="grey", linestyle="--", linewidth=0.8)
    right.text(0, 260, "250 ms (sustained limit)", fontsize=7, color="grey")
    right.set_yscale("log")
    right.set_xlabel("offered deliveries/s")
    right.set_ylabel("p99 publish→receive (ms, log)")
    right.set_title("p99 latency by step")
    right.legend(fontsize=8)
    fig.suptitle("Social Flow benchmark (shared 2-core machine: noisy)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
