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
    rows = [r for r in data["rows"] if r.get("max")]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))
    labels = [r["key"] for r in rows]
    values = [r["max"] for r in rows]
    colors = [
        "#d62728" if r["key"] == "social_flow" else ("#7f7f7f" if r["key"] == "ws_ceiling" else "#1f77b4") for r in rows
    ]
    bars = left.barh(labels, values, color=colors)
    left.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("max sustained deliveries/s (1,000 sockets, one core)")
    left.set_title("Fan-out throughput")
    left.set_xlim(0, max(values or [1]) * 1.25)
    for result in data["results"]:
        steps = [s for s in result.get("steps", []) if s.get("p99_ms") is not None]
        if steps:
            right.plot(
                [s["achieved"] for s in steps],
                [s["p99_ms"] for s in steps],
                marker="o",
                label=result["key"],
                linewidth=2.5 if result["key"] == "social_flow" else 1.2,
            )
    right.axhline(250, color="grey", linestyle="--", linewidth=0.8)
    right.text(0, 260, "250 ms (sustained limit)", fontsize=7, color="grey")
    right.set_yscale("log")
    right.set_xlabel("delivered/s")
    right.set_ylabel("p99 publish→receive (ms, log)")
    right.set_title("p99 latency by step")
    right.legend(fontsize=8)
    fig.suptitle("Social Flow benchmark (shared 2-core machine: noisy)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
