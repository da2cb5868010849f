"""The ``/admin`` mount: piccolo-admin served by the Litestar app, staff only (see ``auth.py``)."""

from __future__ import annotations

from litestar import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

from server.admin.panel.app import AdminPanel
from server.settings import Settings


def admin_mount(settings: Settings) -> ASGIRouteHandler:
    """A mount whose panel is built on first use, with the app's social runtime (for removals)."""
    holder: dict[str, AdminPanel] = {}

    @asgi("/admin", is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        panel = holder.get("panel")
        if panel is None:
            state = scope["app"].state
            panel = holder.setdefault("panel", AdminPanel(settings, lambda: state))
        await panel(scope, receive, send)

    return admin
