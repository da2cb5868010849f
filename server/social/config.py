"""Social feed settings: part of ``server.settings.Settings``, read from the environment by its ``from_env``."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec


class SocialSettings(msgspec.Struct, frozen=True):
    celebrity_threshold: int = 10_000
    """Authors with at least this many followers are pulled at read time, not pushed on write."""
    timeline_cap: int = 400
    timeline_ttl_seconds: int = 3 * 24 * 3600
    active_window_seconds: int = 15 * 60
    """Followers seen within this window get live ``timeline:home`` events for a new post."""
    trending_half_life_seconds: float = 6 * 3600
    stats_flush_seconds: float = 0.25
    avatar_max_bytes: int = 5 * 1024 * 1024
    avatar_size: int = 400
    image_max_bytes: int = 5 * 1024 * 1024
    image_max_side: int = 2048
    avatar_max_pixels: int = 12_000_000
    """Decoded size bound of an avatar (a phone photo fits; a 116 KB PNG claiming 40 Mpx does not)."""
    image_max_pixels: int = 20_000_000
    image_workers: int = 2
    """Images decoded at once, in their own pool (apart from password hashing)."""
    orphan_media_seconds: int = 24 * 3600
    """Uploads not attached to a post within this long are deleted."""
    orphan_sweep_seconds: float = 600.0


def from_env(env: Mapping[str, str]) -> SocialSettings:
    """The ``SOCIAL_*`` variables (``server.settings.from_env`` calls this)."""
    return SocialSettings(
        celebrity_threshold=int(env.get("SOCIAL_CELEBRITY_THRESHOLD") or 10_000),
        timeline_cap=int(env.get("SOCIAL_TIMELINE_CAP") or 400),
        active_window_seconds=int(env.get("SOCIAL_ACTIVE_WINDOW_SECONDS") or 15 * 60),
    )
