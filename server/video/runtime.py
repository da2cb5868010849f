"""The video domain's long-lived objects: settings, storage, URL signing; built once in ``create_app``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.video import signing
from server.video.config import VideoSettings
from server.video.storage import Storage

if TYPE_CHECKING:
    from server.settings import Settings
    from server.social.runtime import SocialRuntime


class VideoRuntime:
    """Services and jobs receive this (by DI, or as the job worker's context)."""

    def __init__(
        self,
        settings: VideoSettings,
        storage: Storage,
        *,
        data_dir: Path,
        secret_key: str,
        public_url: str,
        social: SocialRuntime | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.data_dir = data_dir
        """Uploads are staged under ``data_dir/uploads``; transcodes work under ``data_dir/transcode``."""
        self.secret_key = secret_key
        self.public_url = public_url.rstrip("/")
        self.social = social
        # video id -> (checked at, anonymous may read its files): the media route's hot path asks once per
        # few seconds per video instead of once per segment request.
        self._public: dict[int, tuple[float, bool]] = {}
        # Whether a signed URL's viewer may still watch the video (``signing.ACCESS_RECHECK`` s per process).
        self.access = signing.AccessCache(social.access_changes if social is not None else None)

    @property
    def uploads_dir(self) -> Any:
        return self.data_dir / "uploads"

    @property
    def work_dir(self) -> Any:
        return self.data_dir / "transcode"

    async def start(self) -> None:
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        await self.storage.start()

    async def close(self) -> None:
        await self.storage.close()

    # -- URLs ------------------------------------------------------------------------------------

    def media_token(self, video_id: int, public: bool, viewer: int) -> tuple[str, datetime | None]:
        """The path segment that opens ``video_id``'s files: ``p`` when public, else one signed for ``viewer``,
        expiring, and honoured only while ``viewer`` may still watch the video (see ``access``)."""
        if public:
            return signing.PUBLIC, None
        token, expires = signing.sign_for(self.secret_key, video_id, viewer, self.settings.url_ttl_seconds)
        return token, datetime.fromtimestamp(expires, UTC)

    def media_url(self, video_id: int, token: str, name: str) -> str:
        return f"{self.public_url}/media/videos/{video_id}/{token}/{name}"

    def upload_url(self, video_id: int) -> str:
        return f"{self.public_url}/api/v1/uploads/{video_id}"

    # -- the media route's access cache ---------------------------------------------------------

    def cached_public(self, video_id: int, ttl: float = 5.0) -> bool | None:
        hit = self._public.get(video_id)
        if hit is None or time.monotonic() - hit[0] > ttl:
            return None
        return hit[1]

    def remember_public(self, video_id: int, public: bool) -> None:
        if len(self._public) > 50_000:
            self._public.clear()
        self._public[video_id] = (time.monotonic(), public)

    def forget(self, video_id: int) -> None:
        """The video changed (visibility, price, deletion...): check its files' access again on the next request."""
        self._public.pop(video_id, None)
        self.access.forget(video_id)


def build(settings: Settings, social: SocialRuntime | None) -> VideoRuntime:
    """The runtime for ``settings``: the app and the worker entry use this."""
    from server.video.storage import from_url

    cfg = settings.video
    storage = from_url(cfg.storage_url, settings.data_dir, cfg.s3_endpoint_url, cfg.s3_region)
    return VideoRuntime(
        cfg,
        storage,
        data_dir=settings.data_dir,
        secret_key=settings.security.secret_key,
        public_url=settings.public_url,
        social=social,
    )
