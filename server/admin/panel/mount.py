"""The ``/admin`` mount: piccolo-admin served by the Litestar app, staff only (see ``auth.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

from server.admin.panel.app import AdminPanel

if TYPE_CHECKING:
    from collections.abc import Callable

    from server.runtime import Runtime


def admin_mount(runtime: Callable[[], Runtime]) -> ASGIRouteHandler:
    """A mount whose panel is built on first use, with the app's current runtime objects (for removals)."""
    holder: dict[str, AdminPanel] = {}

    @asgi("/admin", is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        panel = holder.get("panel")
        if panel is None:
            panel = holder.setdefault("panel", AdminPanel(runtime().settings, runtime))
        await panel(scope, receive, send)

    return admin
