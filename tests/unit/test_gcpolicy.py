"""The served app freezes start-up's objects out of the collector once its lifespan started, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from server import gcpolicy


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test freezes is unfrozen for the rest of the session."""
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_startup_complete_freezes_before_the_server_hears_of_it(collector: None) -> None:
    seen: list[tuple[str, int]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "lifespan.startup.complete"})

    async def send(message: Any) -> None:
        seen.append((message["type"], gc.get_freeze_count()))

    wrapped = gcpolicy.after_startup(app)
    assert gc.get_freeze_count() == 0
    await wrapped({"type": "lifespan"}, None, send)
    # Frozen before uvicorn hears that start-up completed (so before the first request).
    assert seen[0][0] == "lifespan.startup.complete"
    assert seen[0][1] > 0


async def test_http_passes_through_untouched(collector: None) -> None:
    calls: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(send)
        await send({"type": "http.response.start"})

    async def send(message: Any) -> None:
        pass

    wrapped = gcpolicy.after_startup(app)
    await wrapped({"type": "http"}, None, send)
    assert calls == [send]  # the server's own send, not a wrapper
    assert gc.get_freeze_count() == 0
    assert wrapped.app is app  # type: ignore[attr-defined]  # channels.wire finds the direct route through it


async def test_what_prepare_builds_is_frozen_with_start_up(collector: None) -> None:
    """What the process builds once and keeps (the OpenAPI document, in ``server.asgi``) is built before the
    freeze, so no later full collection walks it again."""
    built: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "lifespan.startup.complete"})

    async def send(message: Any) -> None:
        pass

    def prepare() -> None:
        assert gc.get_freeze_count() == 0  # before the freeze
        built.append({"kept": [{"n": n} for n in range(100)]})

    await gcpolicy.after_startup(app, prepare)({"type": "lifespan"}, None, send)
    assert built
    assert not any(obj is built[0] for obj in gc.get_objects())  # frozen: outside every collected generation
