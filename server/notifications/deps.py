"""Providers for Litestar DI: the process's ``NotificationsRuntime`` (push providers, positions, presence) and
the services the controllers take."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server.notifications.push_tokens import PushTokenService
from server.notifications.runtime import NotificationsRuntime
from server.notifications.services import NotificationService
from server.settings import Settings


def provide_notifications_runtime(state: State) -> NotificationsRuntime:
    return state["notifications_runtime"]  # type: ignore[no-any-return]


def provide_notifications(
    settings: NamedDependency[Settings], notifications_runtime: NamedDependency[NotificationsRuntime]
) -> NotificationService:
    return NotificationService(settings, notifications_runtime.position_of)


def provide_push_tokens(settings: NamedDependency[Settings]) -> PushTokenService:
    return PushTokenService(settings)


dependencies = {"notifications_runtime": Provide(provide_notifications_runtime, sync_to_thread=False)}
