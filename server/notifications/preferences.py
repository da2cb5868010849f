"""Per type x channel preferences with defaults, and quiet hours in the user's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from models.notifications import NotificationPreference
from server.errors import NotFound, ValidationFailed
from server.notifications import catalog, queries
from server.notifications.schemas import Preferences, PreferencesUpdate, QuietHours


@dataclass(frozen=True, slots=True)
class Prefs:
    """A user's stored preferences, resolved against the defaults."""

    matrix: dict[str, dict[str, bool]]
    overrides: dict[str, dict[str, bool]] = field(default_factory=dict)
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str = "UTC"
    push_while_online: bool = False
    locale: str = "en"

    def allows(self, type_: str, channel: str) -> bool:
        return self.matrix[type_][channel]

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def quiet_until(self, now: datetime) -> datetime | None:
        """When quiet hours covering ``now`` end (UTC), or ``None`` if pushes may go now."""
        if not self.quiet_start or not self.quiet_end or self.quiet_start == self.quiet_end:
            return None
        local = now.astimezone(self.zone())
        start, end = _hhmm(self.quiet_start), _hhmm(self.quiet_end)
        t = local.time().replace(second=0, microsecond=0)
        inside = start <= t < end if start < end else (t >= start or t < end)
        if not inside:
            return None
        end_day = local.date() if t < end else local.date() + timedelta(days=1)
        # Build in local wall time, then convert: the end is "07:00 where the user lives", DST included.
        return datetime.combine(end_day, end, tzinfo=self.zone()).astimezone(UTC)


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _valid_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r}") from exc
    return name


async def load(user_id: int) -> Prefs:
    """The preferences of ``user_id`` (defaults when they never saved any)."""
    row = await queries.preferences_row(user_id)
    if row is None:
        raise NotFound("no such user")
    overrides = _as_dict(row["matrix"])
    return Prefs(
        matrix=catalog.effective(overrides),
        overrides=overrides,
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        timezone=row["timezone"] or "UTC",
        push_while_online=bool(row["push_while_online"]),
        locale=row["locale"] or "en",
    )


def _as_dict(value: object) -> dict[str, dict[str, bool]]:
    if isinstance(value, str):
        value = msgspec.json.decode(value)
    return value if isinstance(value, dict) else {}


def view(prefs: Prefs) -> Preferences:
    quiet = QuietHours(start=prefs.quiet_start, end=prefs.quiet_end) if prefs.quiet_start and prefs.quiet_end else None
    return Preferences(
        types=prefs.matrix, quiet_hours=quiet, timezone=prefs.timezone, push_while_online=prefs.push_while_online
    )


async def update(user_id: int, data: PreferencesUpdate) -> Prefs:
    """Apply ``data`` over the stored preferences; unknown types are a 422 and nothing changes."""
    unknown = sorted(set(data.types or {}) - set(catalog.TYPES))
    if unknown:
        raise ValidationFailed(f"unknown notification types: {', '.join(unknown)}")
    current = await load(user_id)
    overrides = {t: dict(c) for t, c in current.overrides.items()}
    for type_, channels in (data.types or {}).items():
        for channel in catalog.CHANNELS:
            value = getattr(channels, channel)
            if value is not None:
                overrides.setdefault(type_, {})[channel] = value
    quiet_start, quiet_end = current.quiet_start, current.quiet_end
    if data.quiet_hours is not msgspec.UNSET:
        quiet_start = data.quiet_hours.start if data.quiet_hours else None
        quiet_end = data.quiet_hours.end if data.quiet_hours else None
    stored_tz = await _stored_timezone(user_id)
    if data.timezone is not msgspec.UNSET:
        stored_tz = _valid_zone(data.timezone) if data.timezone else None
    push_while_online = current.push_while_online if data.push_while_online is None else data.push_while_online
    matrix_json = msgspec.json.encode(overrides).decode()
    await queries.save_preferences(user_id, matrix_json, quiet_start, quiet_end, stored_tz, push_while_online)
    return await load(user_id)


async def _stored_timezone(user_id: int) -> str | None:
    row = (
        await NotificationPreference.select(NotificationPreference.timezone)
        .where(NotificationPreference.user == user_id)
        .first()
    )
    return row["timezone"] if row else None
