"""Ads settings: part of ``server.settings.Settings``, read from the environment by its ``from_env``."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec


class AdsSettings(msgspec.Struct, frozen=True):
    enabled: bool = True
    """Off (``ADS_ENABLED=0``): feeds carry ``ads: []`` and nothing is selected."""
    posts_per_ad: int = 5
    """At most one ad per this many posts of a page."""
    refresh_seconds: float = 5.0
    """How often each process reloads its snapshot of active campaigns (changes made here apply at once)."""
    flush_seconds: float = 2.0
    """How often counted impressions, clicks and spend move from the hot state to PostgreSQL."""
    impression_ttl_seconds: int = 3600
    """How long a served ad's impression token may be reported."""
    click_ttl_seconds: int = 24 * 3600
    """How long a served ad's click link counts a click (later it still redirects, uncounted)."""
    max_candidates: int = 32
    """Highest-bid eligible campaigns handed to the atomic selection per feed page."""
    pacing_lead: float = 1 / 24
    """How far ahead of an even spread over the day a campaign may spend (a share of its daily budget)."""


def from_env(env: Mapping[str, str]) -> AdsSettings:
    """The ``ADS_*`` variables (``server.settings.from_env`` calls this)."""
    return AdsSettings(
        enabled=(env.get("ADS_ENABLED") or "1") not in {"0", "false", "no"},
        refresh_seconds=float(env.get("ADS_REFRESH_SECONDS") or 5.0),
        flush_seconds=float(env.get("ADS_FLUSH_SECONDS") or 2.0),
    )
