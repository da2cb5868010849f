"""Video settings: part of ``server.settings.Settings``, read from the environment by its ``from_env``."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

GIB = 1 << 30


class VideoSettings(msgspec.Struct, frozen=True):
    max_bytes: int = 10 * GIB
    """``VIDEO_MAX_BYTES``: the largest upload (tus ``Tus-Max-Size``)."""
    quota_bytes: int = 100 * GIB
    """``VIDEO_QUOTA_BYTES``: what one user's videos may add up to."""
    require_approval: bool = False
    """``VIDEO_REQUIRE_APPROVAL``: new videos wait for a moderator before anyone else sees them."""
    storage_url: str = ""
    """``STORAGE_URL``: empty = local files under DATA_DIR; ``s3://bucket/prefix`` = S3."""
    s3_endpoint_url: str | None = None
    """``S3_ENDPOINT_URL``: an S3-compatible server (MinIO, moto...); unset = AWS."""
    s3_region: str = "us-east-1"
    upload_expiry_seconds: int = 24 * 3600
    """An incomplete upload untouched this long expires and its bytes are removed."""
    url_ttl_seconds: int = 6 * 3600
    """How long a signed playback URL stays valid."""
    worker: str = "inprocess"
    """``VIDEO_WORKER``: ``inprocess`` runs transcodes in the server; ``off``: ``python -m server video-worker``."""
    worker_concurrency: int = 1
    transcode_threads: int = 0
    """ffmpeg ``-threads`` (0 = ffmpeg decides)."""
    preset: str = "veryfast"
    max_attempts: int = 3


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def from_env(env: Mapping[str, str]) -> VideoSettings:
    """The video variables (``server.settings.from_env`` calls this)."""
    d = VideoSettings()
    return VideoSettings(
        max_bytes=int(env.get("VIDEO_MAX_BYTES") or d.max_bytes),
        quota_bytes=int(env.get("VIDEO_QUOTA_BYTES") or d.quota_bytes),
        require_approval=_bool(env.get("VIDEO_REQUIRE_APPROVAL")),
        storage_url=env.get("STORAGE_URL") or "",
        s3_endpoint_url=env.get("S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
        s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or d.s3_region,
        upload_expiry_seconds=int(env.get("VIDEO_UPLOAD_EXPIRY_SECONDS") or d.upload_expiry_seconds),
        url_ttl_seconds=int(env.get("VIDEO_URL_TTL_SECONDS") or d.url_ttl_seconds),
        worker=env.get("VIDEO_WORKER") or d.worker,
        worker_concurrency=int(env.get("VIDEO_WORKER_CONCURRENCY") or d.worker_concurrency),
        transcode_threads=int(env.get("VIDEO_TRANSCODE_THREADS") or d.transcode_threads),
        preset=env.get("VIDEO_PRESET") or d.preset,
    )
