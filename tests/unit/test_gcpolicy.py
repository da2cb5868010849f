"""The served app freezes start-up's objects out of the collector once its lifespan started, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from server import gcpolicy


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone for the rest of the session."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_startup_complete_freezes_and_raises_the_young_threshold(collector: None) -> None:
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
    assert gc.get_threshold()[0] == gcpolicy.YOUNG_THRESHOLD


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
