"""DI providers of the video domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from server.video.analytics import AnalyticsService
from server.video.discovery import DiscoveryService
from server.video.runtime import VideoRuntime
from server.video.services import VideoService
from server.video.uploads import UploadService


def provide_runtime(state: State) -> VideoRuntime:
    return state["video"]  # type: ignore[no-any-return]


def _videos(state: State) -> VideoService:
    return VideoService(state["video"])


def _uploads(state: State) -> UploadService:
    return UploadService(state["video"])


def _discovery(state: State) -> DiscoveryService:
    return DiscoveryService(state["video"])


def _analytics(state: State) -> AnalyticsService:
    return AnalyticsService(state["video"])


dependencies = {
    "video_runtime": Provide(provide_runtime, sync_to_thread=False),
    "videos": Provide(_videos, sync_to_thread=False),
    "uploads": Provide(_uploads, sync_to_thread=False),
    "discovery": Provide(_discovery, sync_to_thread=False),
    "video_analytics": Provide(_analytics, sync_to_thread=False),
}
