"""``python bench/memprobe.py serve``: ``python -m server serve`` with a memory report on SIGUSR1 (bench only).

Run by path, not with ``-m``, so it can serve another checkout: the server package is imported from the
working directory. On SIGUSR1 it writes ``$MEMPROBE_OUT.<n>.json`` (glibc ``mallinfo2``, the process's
RSS split, gc object counts by type) and, when ``MEMPROBE_TRACE`` is set (frames to keep; tracemalloc is
started by the first report, so only what is allocated after it is traced), ``$MEMPROBE_OUT.<n>.snap``
(a tracemalloc snapshot). SIGUSR2 runs ``gc.collect()`` first and reports what it freed. Reports are
written from the signal handler, between two bytecodes of the event loop thread: nothing else runs then.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from typing import Any


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def mallinfo() -> dict[str, int]:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    return {name: int(getattr(info, name)) for name, _ in _Mallinfo2._fields_}


def status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmData", "Threads"):
                out[key] = int(value.split()[0])
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("AnonHugePages", "Private_Dirty", "Pss_Anon"):
                out[key] = int(value.split()[0])
    return out


def report(n: int, base: str, collected: int | None = None) -> None:
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    data: dict[str, Any] = {
        "status_kib": status(),
        "mallinfo": mallinfo(),
        "gc_objects": len(gc.get_objects()),
        "types": dict(counts.most_common(60)),
        "blocks": sys.getallocatedblocks(),
        "gc_collections": [g["collections"] for g in gc.get_stats()],
        "collected": collected,
    }
    if tracemalloc.is_tracing():
        current, peak = tracemalloc.get_traced_memory()
        data["traced"] = {"current": current, "peak": peak, "overhead": tracemalloc.get_tracemalloc_memory()}
        tracemalloc.take_snapshot().dump(f"{base}.{n}.snap")
    elif os.environ.get("MEMPROBE_TRACE", "0") != "0":
        data["traced"] = {"current": 0, "peak": 0, "overhead": 0}
    with open(f"{base}.{n}.json", "w") as handle:
        json.dump(data, handle)


def main() -> None:
    frames = int(os.environ.get("MEMPROBE_TRACE", "0") or 0)
    base = os.environ["MEMPROBE_OUT"]
    taken = [0]

    def on_signal(_sig: int, _frame: Any) -> None:
        taken[0] += 1
        report(taken[0], base)
        if frames and not tracemalloc.is_tracing():
            tracemalloc.start(frames)  # after the first report: tracing the whole startup takes minutes

    def on_collect(_sig: int, _frame: Any) -> None:
        taken[0] += 1
        report(taken[0], base, gc.collect())  # what the collector finds unreachable: garbage the RSS held

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGUSR2, on_collect)
    sys.path[0] = os.getcwd()  # not this script's folder (bench/): the served checkout
    if os.environ.get("MEMPROBE_GC_DEFAULTS"):  # CPython's collector thresholds, no freeze (A/B of server.gcpolicy)
        import importlib

        with_policy = importlib.import_module("server.gcpolicy")
        with_policy.settle = lambda: None
    sys.argv = ["server", *sys.argv[1:]]
    import runpy

    runpy.run_module("server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
