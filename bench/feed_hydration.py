"""A/B of one home page's hydration (``views.visible_posts``), post content cache on against off.

Usage, on a seeded data set (``DATA_DIR=/tmp/sf python -m server seed ...``):

    DATA_DIR=/tmp/sf python -m bench.feed_hydration [--rounds 30]

Ten pages of 21 posts, as ``user1`` sees them; each round runs the cache-on pass (after one warming pass:
the steady state of a feed whose posts were read before) and the cache-off pass back to back, so both
see the same machine load. Prints the median and best milliseconds per page of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path


async def measure(rounds: int) -> None:
    from server import db, sql
    from server.social.services import visibility as views

    await db.start_pool(max_size=2)
    try:
        viewer = await sql.fetchval("SELECT id FROM users WHERE username = 'user1'")
        pages = [
            [r["id"] for r in await sql.fetch(
                "SELECT id FROM posts WHERE deleted_at IS NULL ORDER BY id DESC OFFSET $1 LIMIT 21", k * 21
            )]
            for k in range(10)
        ]  # fmt: skip
        results: dict[str, list[float]] = {"cache on": [], "cache off": []}
        for _ in range(rounds):
            for mode in results:
                views.CONTENT.clear()
                views.CONTENT.size = 20_000 if mode == "cache on" else 0
                if mode == "cache on":
                    for ids in pages:
                        await views.visible_posts(viewer, ids, feed=True)
                start = time.perf_counter()
                for ids in pages:
                    await views.visible_posts(viewer, ids, feed=True)
                results[mode].append((time.perf_counter() - start) / len(pages) * 1000)
        for mode, values in results.items():
            values.sort()
            print(f"{mode}: median {values[len(values) // 2]:.2f} ms per page, best {values[0]:.2f} ms")
    finally:
        views.CONTENT.size = 20_000
        await db.close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        from server.embedded import EmbeddedPostgres

        os.environ["DATABASE_URL"] = EmbeddedPostgres(Path(os.environ.get("DATA_DIR", ".data"))).start()
    asyncio.run(measure(args.rounds))


if __name__ == "__main__":
    main()
