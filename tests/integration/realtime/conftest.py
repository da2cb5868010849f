"""Fixtures for the realtime layer: brokers of both kinds, and apps on either broker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest


@pytest.fixture(params=["memory", "redis", "cluster"])
async def broker(request: pytest.FixtureRequest, redis_client: Any, services: dict[str, str]) -> AsyncIterator[Any]:
    """A started broker of each kind (Redis flushed first); ``cluster``: sharded, on a real 3-shard cluster."""
    from channels.memory import MemoryBroker
    from server.realtime.kinds import HISTORY
    from tests.support.brokers import redis_broker

    b: Any
    client: Any = None
    if request.param == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        b, client = redis_broker(cluster.url, HISTORY)
        b.forget = lambda channel: cluster.flush()  # history lost, as test_lost_history_changes_the_epoch needs
    elif request.param == "redis":
        b, client = redis_broker(services["redis_url"], HISTORY)
    else:
        b = MemoryBroker(HISTORY)
    await b.start()
    yield b
    await b.close()
    if client is not None:
        await client.aclose()


def realtime_settings(settings: Any, redis: bool, **realtime: Any) -> Any:
    """``settings`` (the session's), with or without Redis and with realtime overrides."""
    from server.settings import RedisSettings

    if not redis:
        settings = msgspec.structs.replace(settings, redis=RedisSettings(url=None))
    if realtime:
        settings = msgspec.structs.replace(settings, realtime=msgspec.structs.replace(settings.realtime, **realtime))
    return settings


@contextlib.asynccontextmanager
async def app_client(settings: Any) -> AsyncIterator[Any]:
    """An in-process client on a fresh app built from ``settings`` (lifespan around it, in one task)."""
    from tests.support.apps import app_for
    from tests.support.asgi import in_process_client

    app = app_for(settings)
    async with in_process_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture(params=["memory", "redis"])
async def rt(request: pytest.FixtureRequest, clean_db: None, redis_client: Any, settings: Any) -> AsyncIterator[Any]:
    """A client on an app using each broker (the default auth timeout: a test that needs a short one asks
    ``make_client`` for it, so no other test's socket races a 0.5 s timer on a busy machine)."""
    async with app_client(realtime_settings(settings, request.param == "redis")) as c:
        yield c


@pytest.fixture
def make_client(clean_db: None, redis_client: Any, settings: Any) -> Callable[..., Any]:
    """``async with make_client(redis=True, base=None, **realtime_overrides) as client``; ``base``: settings
    to start from instead of the session's (a variant made with ``tests.support.settings.derive``)."""

    def make(redis: bool = True, base: Any = None, **overrides: Any) -> Any:
        return app_client(realtime_settings(settings if base is None else base, redis, **overrides))

    return make
