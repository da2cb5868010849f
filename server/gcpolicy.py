"""The serving process's garbage-collector policy: freeze what start-up built out of every later collection.

A full (generation 2) collection walks every tracked object in the process. After start-up that is
mostly the app itself (Litestar's routes and signature models, OpenAPI schemas, Piccolo tables, msgspec
types, imported modules): measured on the feed bench, each full collection paused the event loop for
~100 ms (160 ms at worst) at start-up and every few seconds under 300 req/s, which is where the home
feed's p99 came from. ``gc.freeze()`` moves those objects to a permanent generation the collector never
walks (CPython's answer for forking servers; Instagram's "Dismissing Python Garbage Collection"), so a
full collection walks only what was allocated since.

The collection thresholds stay CPython's: a first threshold of 20,000 (Instagram's other half) was
tried and measured no better on feed CPU, while the cyclic garbage each websocket handshake leaves
waited longer for a collection: ``bench.idle_socket`` went from 5.1 to 6.7 KiB per idle socket.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def settle() -> None:
    """Collect once, then freeze every surviving object out of future collections; call after start-up."""
    gc.collect()
    gc.freeze()


def after_startup(app: ASGIApp, prepare: Callable[[], object] | None = None) -> ASGIApp:
    """``app`` that ``settle()``s once its lifespan start-up completed (pools, runtimes and caches built).

    ``prepare`` runs just before, for what the process would otherwise build on a later request and keep for
    good (``server.asgi``: the OpenAPI document): built after the freeze, it stays in the collected
    generations and every full collection walks it again.
    Only the served process is wrapped (``server.asgi``): apps built in tests collect as CPython does.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_settled(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                if prepare is not None:
                    prepare()
                settle()
            await send(message)

        await app(scope, receive, send_settled)

    wrapped.app = app  # type: ignore[attr-defined]  # channels.wire looks through ``.app`` for the direct route
    return wrapped
