"""The piccolo-admin ASGI app, built on the first request to ``/admin/`` (it costs a FastAPI app)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar.types import Receive, Scope, Send
from piccolo_admin.endpoints import create_admin

from server.admin.panel import forms, tables
from server.admin.panel.auth import AccountTOTP, PanelOperator, PanelSession
from server.settings import Settings


class AdminPanel:
    """Mounted at ``/admin``; one per app (made in ``create_app``)."""

    def __init__(self, settings: Settings, state: Callable[[], Any]) -> None:
        self.settings = settings
        self.state = state
        self._app: Any = None
        self._lock = asyncio.Lock()

    def build(self) -> Any:
        production = self.settings.public_url.startswith("https://")
        return create_admin(
            tables.build(),
            forms=forms.build(self.state),
            auth_table=PanelOperator,
            session_table=PanelSession,
            site_name="Social Flow admin",
            production=production,
            mfa_providers=[AccountTOTP(self.settings)],
            allowed_hosts=[],
            # Every table is listed (read-only) in tables.py; an automatically added one would be editable.
            auto_include_related=False,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            async with self._lock:
                if self._app is None:
                    self._app = await asyncio.to_thread(self.build)
        await self._app(scope, receive, send)
