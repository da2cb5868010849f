"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from server import db


class Health(msgspec.Struct):
    status: str
    down: list[str] = msgspec.field(default_factory=list)


class HealthController(Controller):
    include_in_schema = True
    tags = ["health"]

    @get("/healthz", summary="Liveness: 200 once the process serves")
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        summary="Readiness: 200 while the database and (if configured) Redis answer, else 503",
        responses={503: ResponseSpec(Health, description="What is down")},
    )
    async def readyz(self, state: State) -> Response[Health]:
        checks = {"database": db.ping()}
        redis = state.get("redis")
        if redis is not None:
            checks["redis"] = _redis_ping(redis)
        results = await asyncio.gather(*checks.values())
        down = [name for name, ok in zip(checks, results, strict=True) if not ok]
        return Response(Health(status="unavailable" if down else "ok", down=down), status_code=503 if down else 200)


async def _redis_ping(redis: object) -> bool:
    try:
        return bool(await asyncio.wait_for(redis.ping(), 2.0))  # type: ignore[attr-defined]
    except Exception:
        return False
