"""An app with live ingest enabled (a hook secret, a recordings folder) on the test database and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

HOOK_SECRET = "test-hook-secret-" + "0" * 16


def live_app(settings: Any, tmp: Path, redis: bool = True, realtime: dict[str, Any] | None = None, **live: Any) -> Any:
    """A fresh app on ``settings``, its ``live`` settings the defaults with ``live`` overrides (and the hook secret)."""
    import msgspec

    from server.settings import LiveSettings, RedisSettings
    from tests.support.apps import app_for

    cfg = LiveSettings(**{"hook_secret": HOOK_SECRET, "recordings_dir": str(tmp), **live})
    settings = msgspec.structs.replace(settings, live=cfg)
    if not redis:
        settings = msgspec.structs.replace(settings, redis=RedisSettings(url=None))
    if realtime:
        settings = msgspec.structs.replace(settings, realtime=msgspec.structs.replace(settings.realtime, **realtime))
    return app_for(settings)


@pytest.fixture
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live apps' recordings folder, emptied for each test: one path per worker process, so the settings
    (and with them the app, ``tests.support.apps``) are the same from test to test."""
    import shutil

    folder = tmp_path_factory.getbasetemp() / "live-recordings"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


@pytest.fixture
async def live(clean_db: None, redis_client: Any, recordings: Path, settings: Any) -> AsyncIterator[Any]:
    """A client on an app with live ingest enabled (Redis-backed, like production)."""
    from tests.support.asgi import in_process_client

    async with in_process_client(live_app(settings, recordings)) as c:
        yield c


@pytest.fixture
def make_live(clean_db: None, redis_client: Any, recordings: Path, settings: Any) -> Callable[..., Any]:
    """``async with make_live(redis=False, realtime={"command_rate": 5}, chat_limit=Limit(2, 60)) as client``."""
    from tests.support.asgi import in_process_client

    def make(redis: bool = True, realtime: dict[str, Any] | None = None, **overrides: Any) -> Any:
        return in_process_client(live_app(settings, recordings, redis, realtime, **overrides))

    return make
