"""The ``/admin`` mount: piccolo-admin served by the Litestar app, staff only (see ``auth.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

if TYPE_CHECKING:
    from collections.abc import Callable

    from server.admin.panel.app import AdminPanel
    from server.runtime import Runtime


def admin_mount(runtime: Callable[[], Runtime]) -> ASGIRouteHandler:
    """A mount whose panel is built on first use, with the app's current runtime objects (for removals).

    piccolo-admin (and the FastAPI it is built on) is imported then too: ~0.25 CPU-s that a process which never
    serves ``/admin`` (every worker of a multi-worker server but the one that does, each server a test starts)
    no longer spends at start-up.
    """
    holder: dict[str, AdminPanel] = {}

    @asgi("/admin", is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        panel = holder.get("panel")
        if panel is None:
            from server.admin.panel.app import AdminPanel

            panel = holder.setdefault("panel", AdminPanel(runtime().settings, runtime))
        await panel(scope, receive, send)

    return admin
