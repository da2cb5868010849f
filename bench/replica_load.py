"""Replica lag under a write load (load generator mode ``replica_lag``, see bench/replica.py).

For ``seconds``: readers GET ``read_path`` at ``read_rate`` (open loop), while writers POST posts at
``write_rate``. After each 201 the post's row is polled on the standby (``replica_url``) until it is
there: the lag is from the 201 to the row being visible to a reader routed to the replica. The writer
then reads its own posts through the API at once: read-your-writes must show the post (from the primary).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg

from bench.stats import percentile
from bench.wire import HTTPPool, open_loop

VISIBLE_WITHIN = 10.0  # seconds a write is polled for on the replica before it counts as not seen


async def run_replica_lag(spec: dict[str, Any]) -> dict[str, Any]:
    reads_pool = HTTPPool(spec["host"], spec["port"], size=64)
    writes_pool = HTTPPool(spec["host"], spec["port"], size=16)
    replica = await asyncpg.create_pool(spec["replica_url"], min_size=2, max_size=8)
    readers: list[dict[str, str]] = spec["header_sets"]
    writers: list[dict[str, Any]] = spec["writers"]  # {"headers", "username"}
    read_ms: list[float] = []
    lags_ms: list[float] = []
    write_ms: list[float] = []
    counts = {"writes": 0, "unseen": 0, "own_read_ok": 0, "own_read_missing": 0}
    errors: dict[str, int] = {}

    def error(key: str) -> None:
        errors[key] = errors.get(key, 0) + 1

    async def read(i: int, at: float) -> None:
        try:
            status, _ = await reads_pool.request("GET", spec["read_path"], headers=readers[i % len(readers)])
        except (OSError, asyncio.IncompleteReadError) as exc:
            error(f"read {type(exc).__name__}")
            return
        if status == 200:
            read_ms.append((time.monotonic() - at) * 1000)
        else:
            error(f"read {status}")

    async def write(i: int, at: float) -> None:
        writer = writers[i % len(writers)]
        body = json.dumps({"text": f"replica lag probe {i} #bench", "visibility": "public"}).encode()
        headers = {"Content-Type": "application/json", **writer["headers"]}
        try:
            status, answer = await writes_pool.request("POST", "/api/v1/posts", body, headers)
        except (OSError, asyncio.IncompleteReadError) as exc:
            error(f"write {type(exc).__name__}")
            return
        if status != 201:
            error(f"write {status}")
            return
        answered = time.monotonic()
        write_ms.append((answered - at) * 1000)
        counts["writes"] += 1
        post_id = int(json.loads(answer)["id"])
        own = asyncio.ensure_future(own_read(writer, str(post_id)))
        async with replica.acquire() as conn:
            while time.monotonic() - answered < VISIBLE_WITHIN:
                if await conn.fetchval("SELECT 1 FROM posts WHERE id = $1", post_id):
                    lags_ms.append((time.monotonic() - answered) * 1000)
                    break
                await asyncio.sleep(0.001)
            else:
                counts["unseen"] += 1
        await own

    async def own_read(writer: dict[str, Any], post_id: str) -> None:
        path = f"/api/v1/users/{writer['username']}/posts?limit=100"
        status, answer = await writes_pool.request("GET", path, headers=writer["headers"])
        items = json.loads(answer).get("items", []) if status == 200 else []
        found = any(str(item.get("id")) == post_id for item in items)
        counts["own_read_ok" if found else "own_read_missing"] += 1

    started = time.monotonic()
    read_tasks, write_tasks = await asyncio.gather(
        open_loop(spec["read_rate"], spec["seconds"], read), open_loop(spec["write_rate"], spec["seconds"], write)
    )
    await asyncio.wait([*read_tasks, *write_tasks], timeout=VISIBLE_WITHIN + 5)
    elapsed = time.monotonic() - started
    reads_pool.close()
    writes_pool.close()
    await replica.close()
    return {
        "seconds": elapsed,
        "load_seconds": spec["seconds"],
        "read_rate": spec["read_rate"],
        "write_rate": spec["write_rate"],
        "reads_ok": len(read_ms),
        "reads_offered": len(read_tasks),
        "read_p50_ms": percentile(read_ms, 50),
        "read_p99_ms": percentile(read_ms, 99),
        "write_p50_ms": percentile(write_ms, 50),
        "lag_p50_ms": percentile(lags_ms, 50),
        "lag_p99_ms": percentile(lags_ms, 99),
        "lag_max_ms": max(lags_ms) if lags_ms else None,
        **counts,
        "errors": errors,
    }
