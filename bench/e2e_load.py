"""End to end: an author's REST post arriving on every online follower's home timeline socket."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench.stats import percentile
from bench.wire import HTTPConnection, Tally, WSClient, auth_subscribe_script


def follower_script(token: str, user_id: str) -> list[tuple[str, str]]:
    """Auth, then subscribe to the follower's own home timeline (contract: ``timeline:home:{user_id}``)."""
    return auth_subscribe_script(token, f"timeline:home:{user_id}")


async def run_e2e(spec: dict[str, Any]) -> dict[str, Any]:
    """Open one socket per follower, then post ``posts`` times and time each post's arrival everywhere."""
    host, port = spec["host"], spec["port"]
    followers = spec["followers"]
    tally = Tally()
    loop = asyncio.get_running_loop()

    async def one(f: dict[str, str]) -> WSClient:
        script = follower_script(f["token"], f["id"])
        _, client = await loop.create_connection(
            lambda: WSClient(host, port, spec["ws_path"], script, tally, probe=True), host, port
        )
        await asyncio.wait_for(client.ready, 15)
        return client

    clients: list[WSClient] = []
    for start in range(0, len(followers), 50):
        clients += await asyncio.gather(*(one(f) for f in followers[start : start + 50]))
    await asyncio.sleep(0.5)
    http = await HTTPConnection.open(host, port)
    headers = {"Authorization": f"Bearer {spec['author_token']}", "Content-Type": "application/json"}
    posts = []
    for k in range(spec.get("posts", 5)):
        tally.arrivals = arrivals = []
        body = json.dumps({"text": f"bench post {k} #bench", "visibility": "public"}).encode()
        t0 = time.monotonic()
        status, answer = await http.request("POST", "/api/v1/posts", body, headers)
        rest_ms = (time.monotonic() - t0) * 1000
        deadline = t0 + spec.get("timeout", 10.0)
        while len(arrivals) < len(clients) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        lat = [(a - t0) * 1000 for a in arrivals[: len(clients)]]
        posts.append(
            {
                "status": status,
                "rest_ms": rest_ms,
                "delivered": len(lat),
                "p50_ms": percentile(lat, 50),
                "p99_ms": percentile(lat, 99),
                "last_ms": max(lat) if lat else None,
                "error": None if status == 201 else answer[:300].decode(errors="replace"),
            }
        )
        await asyncio.sleep(spec.get("gap", 0.5))
    http.close()
    for client in clients:
        client.close()
    return {"followers": len(clients), "posts": posts}
