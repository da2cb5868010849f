"""Settings for apps under test: variants of the session's ``settings`` fixture, and the settings of an app."""

from __future__ import annotations

from typing import Any

import msgspec

from server.settings import Settings


def derive(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with ``changes``: a whole section (``push=PushSettings(...)``) or one field of a
    section by dotted name (``derive(s, **{"push.collapse_seconds": 60})``)."""
    for dotted, value in changes.items():
        section, _, field = dotted.partition(".")
        if field:
            value = msgspec.structs.replace(getattr(settings, section), **{field: value})
        settings = msgspec.structs.replace(settings, **{section: value})
    return settings


def of(client: Any) -> Settings:
    """The settings of the app ``client`` talks to (an ``in_process_client``)."""
    settings: Settings = client.sf_app.state.settings
    return settings
