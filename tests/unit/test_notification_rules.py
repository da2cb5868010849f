"""Pure rules of notifications: quiet hours, backoff, cursors, templates, token validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server import cursor
from server.errors import ValidationFailed
from server.jobqueue import backoff
from server.notifications import catalog, templates
from server.notifications.preferences import Prefs
from server.notifications.push_tokens import validate
from server.notifications.schemas import PushTokenCreate


def _prefs(start: str | None, end: str | None, tz: str = "UTC") -> Prefs:
    return Prefs(matrix=catalog.effective({}), quiet_start=start, quiet_end=end, timezone=tz)


def test_quiet_hours_wrap_past_midnight_in_the_users_zone():
    prefs = _prefs("22:00", "07:00", "America/New_York")
    # 03:00 UTC on 2026-01-15 is 22:00 in New York (EST, UTC-5): quiet until 07:00 local = 12:00 UTC.
    assert prefs.quiet_until(datetime(2026, 1, 15, 3, 0, tzinfo=UTC)) == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    # 11:59 UTC = 06:59 local: still quiet, same end.
    assert prefs.quiet_until(datetime(2026, 1, 15, 11, 59, tzinfo=UTC)) == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    # 12:00 UTC = 07:00 local: pushes may go.
    assert prefs.quiet_until(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) is None
    # Summer time moves the end in UTC (EDT, UTC-4).
    assert prefs.quiet_until(datetime(2026, 7, 15, 3, 0, tzinfo=UTC)) == datetime(2026, 7, 15, 11, 0, tzinfo=UTC)


def test_quiet_hours_within_a_day_and_off():
    prefs = _prefs("13:00", "14:30")
    assert prefs.quiet_until(datetime(2026, 1, 1, 13, 10, tzinfo=UTC)) == datetime(2026, 1, 1, 14, 30, tzinfo=UTC)
    assert prefs.quiet_until(datetime(2026, 1, 1, 15, 0, tzinfo=UTC)) is None
    assert _prefs(None, None).quiet_until(datetime(2026, 1, 1, 13, 10, tzinfo=UTC)) is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    for attempt in range(6):
        ceiling = min(300.0, 2.0 * 2**attempt)
        values = {backoff(attempt, 2.0, 300.0) for _ in range(50)}
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len(values) > 1  # jittered
    assert backoff(20, 2.0, 300.0) <= 300.0


def test_cursors_are_signed_and_typed():
    token = cursor.encode("k1", "n", [12345])
    assert cursor.decode_id("k1", "n", token) == 12345
    for bad in (token[:-2] + "AA", "garbage", "", cursor.encode("k1", "g", [12345]), cursor.encode("k2", "n", [12345])):
        with pytest.raises(ValidationFailed):
            cursor.decode_id("k1", "n", bad)


def test_every_locale_has_every_template_and_plurals():
    keys = set(templates.TEXTS["en"])
    assert set(catalog.TYPES) <= keys
    assert all(set(texts) == keys for texts in templates.TEXTS.values())
    assert templates.render("es-MX", "like", "ana", 3) == "A ana y 2 más les gustó tu publicación"
    assert templates.render("pt", "like", "ana", 1) == "ana liked your post"


def test_group_keys():
    assert catalog.group_key("like", "post", 7, 99, "2026-01-01") == "like:post:7"
    assert catalog.group_key("follow", "user", 3, 99, "2026-01-01") == "follow:2026-01-01"
    assert catalog.group_key("mention", "post", 7, 99, "2026-01-01") == "mention:n:99"


def test_apns_tokens_are_normalised_and_fcm_shape_checked():
    token, _, env = validate(PushTokenCreate(platform="apns", token="AB" * 32))
    assert token == "ab" * 32 and env == "production"
    with pytest.raises(ValidationFailed):
        validate(PushTokenCreate(platform="fcm", token="a" * 63))
