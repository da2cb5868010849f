"""One Redis client per process: the broker, presence and every domain share the composition root's."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from server.settings import RedisSettings
from tests.integration.realtime.conftest import realtime_settings


@pytest.mark.parametrize("kind", ["redis", "cluster"])
async def test_every_user_of_redis_gets_the_runtimes_one_client(
    kind: str, settings: Any, request: pytest.FixtureRequest
) -> None:
    from server.runtime import Runtime

    settings = realtime_settings(settings, True)
    if kind == "cluster":
        cluster: Any = request.getfixturevalue("redis_cluster")
        settings = msgspec.structs.replace(settings, redis=RedisSettings(url=cluster.url))
    rt = Runtime(settings)
    try:
        # (a second client, as the broker and presence each built from the URL before, is a second pool)
        assert rt.redis is not None
        assert rt.realtime.broker._redis is rt.redis  # type: ignore[attr-defined]
        assert rt.realtime.presence._redis is rt.redis  # type: ignore[attr-defined]
        assert rt.revocations.redis is rt.redis
        assert rt.limiter.redis is rt.redis
    finally:
        await rt.redis.aclose()
