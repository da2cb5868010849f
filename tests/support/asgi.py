"""Run an ASGI app's lifespan in the test's own event loop, with per-request state like uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def running(app: Any, timeout: float = 30) -> AsyncIterator[Any]:
    """Start ``app``'s lifespan, yield an ASGI callable for requests, shut it down afterwards.

    Each request gets a shallow copy of the lifespan state, as ASGI servers do, so nothing cached in
    one request's ``scope["state"]`` leaks into the next.
    """
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"}, "state": state}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))

    async def expect(kind: str) -> None:
        message = await asyncio.wait_for(outbox.get(), timeout)
        if message["type"] != kind:
            raise RuntimeError(f"lifespan: expected {kind}, got {message}")

    await inbox.put({"type": "lifespan.startup"})
    await expect("lifespan.startup.complete")

    async def per_request(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    try:
        yield per_request
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        try:
            await expect("lifespan.shutdown.complete")
        except TimeoutError:
            # Which task holds the shutdown: each task's stack says what it waits on.
            for other in asyncio.all_tasks():
                if other is not asyncio.current_task():
                    other.print_stack(limit=8)
            # Then end the app: left running, it would serve on behind every later test of this process,
            # its outbox relay holding the relay lock so that no later relay (an app's or test_outbox's)
            # ever publishes. Cancelling unwinds its lifespan (the relay stops, its connection closes).
            task.cancel()
            await asyncio.wait([task], timeout=timeout)
            raise
        await task


@asynccontextmanager
async def in_process_client(app: Any, base_url: str = "http://testserver") -> AsyncIterator[Any]:
    """An httpx client (websockets included, via httpx-ws) on ``app`` with its lifespan running.

    pytest-asyncio may tear a fixture down in another task than it set it up, and anyio's cancel scopes
    must be left in the task that entered them: so the app and its client live in one task of their own,
    and this context manager only hands the client over and asks that task to finish.
    """
    import httpx
    from httpx_ws.transport import ASGIWebSocketTransport

    ready: asyncio.Future[httpx.AsyncClient] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        try:
            async with running(app) as asgi:
                transport = ASGIWebSocketTransport(asgi)
                async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
                    client.sf_app = app  # type: ignore[attr-defined]  # helpers read its state (settings)
                    ready.set_result(client)
                    await done.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    task = asyncio.create_task(hold())
    try:
        yield await ready
    finally:
        done.set()
        await task
