"""Providers for Litestar DI: the process's ``NotificationsRuntime`` (push providers, positions, presence)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from server.notifications.runtime import NotificationsRuntime


def provide_notifications_runtime(state: State) -> NotificationsRuntime:
    return state["notifications_runtime"]  # type: ignore[no-any-return]


dependencies = {"notifications_runtime": Provide(provide_notifications_runtime, sync_to_thread=False)}
