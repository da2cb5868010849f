"""Exports: a job gathers a user's data as JSON files plus their media into one zip, reporting progress.

Progress goes to ``data_exports.progress`` and, live, as ``export.progress {id, percent}`` on the
owner's ``user:{id}`` channel; the end is an ``export.ready`` event and a ``data_export_ready``
notification carrying a signed download link valid 24 h.
"""

from __future__ import annotations

import asyncio
import secrets
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import structlog

from models.account_data import DataExport
from server import db, outbox
from server.account_data import links
from server.account_data.schemas import ExportView
from server.errors import NotFound
from server.notifications.queue import enqueue
from server.notifications.services import notify
from server.observability.metrics import DATA_EXPORTS
from server.realtime import kinds
from server.settings import Settings

log = structlog.get_logger(__name__)

LINK_TTL = timedelta(hours=24)
JOB = "account_data.export"

# One JSON file per section: what the user stored, never secrets (hashes, TOTP secrets, push tokens).
SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "profile.json",
        "SELECT id::text, username, email, display_name, bio, avatar_url, role, is_private, locale, timezone, "
        "links, created_at, email_verified_at, totp_enabled AS two_factor_enabled FROM users WHERE id = {}",
    ),
    (
        "posts.json",
        "SELECT id::text, text, visibility, hashtags, repost_of::text, like_count, comment_count, created_at, "
        "edited_at FROM posts WHERE author = {} AND deleted_at IS NULL ORDER BY id",
    ),
    (
        "comments.json",
        "SELECT id::text, post::text, parent::text, text, created_at FROM comments "
        "WHERE author = {} AND deleted_at IS NULL ORDER BY id",
    ),
    ("likes.json", 'SELECT post::text, created_at FROM post_likes WHERE "user" = {} ORDER BY id'),
    ("bookmarks.json", 'SELECT post::text, created_at FROM bookmarks WHERE "user" = {} ORDER BY id'),
    (
        "following.json",
        "SELECT u.username, f.created_at FROM follows f JOIN users u ON u.id = f.followee "
        "WHERE f.follower = {} ORDER BY f.id",
    ),
    (
        "followers.json",
        "SELECT u.username, f.created_at FROM follows f JOIN users u ON u.id = f.follower "
        "WHERE f.followee = {} ORDER BY f.id",
    ),
    (
        "notifications.json",
        "SELECT n.id::text, n.type, a.username AS actor, n.subject_type, n.subject_id::text, n.created_at, "
        "n.read_at FROM notifications n LEFT JOIN users a ON a.id = n.actor WHERE n.recipient = {} ORDER BY n.id",
    ),
    (
        "sessions.json",
        'SELECT id::text, ip, user_agent, created_at, last_used_at, revoked_at FROM auth_sessions WHERE "user" = {} '
        "ORDER BY id",
    ),
    (
        "security_log.json",
        'SELECT action, ip, user_agent, created_at FROM audit_events WHERE "user" = {} ORDER BY id',
    ),
    ("devices.json", 'SELECT platform, device_id, created_at FROM push_tokens WHERE "user" = {} ORDER BY id'),
    ("media.json", "SELECT id::text, post::text, url, width, height, created_at FROM post_media WHERE owner = {}"),
    (
        "payments.json",
        "SELECT p.id::text, p.kind, p.status, p.amount, p.currency, p.fee, p.refunded, p.message, "
        "payer.username AS payer, recipient.username AS recipient, p.created_at FROM payments p "
        "JOIN users payer ON payer.id = p.payer JOIN users recipient ON recipient.id = p.recipient "
        "WHERE p.payer = {} OR p.recipient = {} ORDER BY p.id",
    ),
    (
        "subscriptions.json",
        "SELECT s.id::text, c.username AS creator, t.name AS tier, t.amount, t.currency, t.interval, s.status, "
        "s.current_period_end, s.created_at, s.ended_at FROM fan_subscriptions s JOIN users c ON c.id = s.creator "
        "JOIN subscription_tiers t ON t.id = s.tier WHERE s.subscriber = {} ORDER BY s.id",
    ),
    (
        "tiers.json",
        "SELECT id::text, name, description, amount, currency, interval, created_at FROM subscription_tiers "
        "WHERE creator = {} ORDER BY id",
    ),
    ("payouts.json", "SELECT id::text, amount, currency, status, created_at FROM payouts WHERE creator = {}"),
)


def exports_dir(settings: Settings) -> Path:
    folder = settings.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def view(row: dict[str, Any], settings: Settings) -> ExportView:
    url = None
    if row["status"] == "ready" and row["expires_at"] is not None and row["expires_at"] > datetime.now(UTC):
        sec = settings.security.secret_key
        url = links.download_url(settings.public_url, sec, row["id"], int(row["expires_at"].timestamp()))
    return ExportView(
        id=str(row["id"]),
        status=row["status"],
        progress=row["progress"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
        size_bytes=row["size_bytes"],
        download_url=url,
    )


async def request_export(user_id: int, settings: Settings) -> ExportView:
    """Queue an export; one already pending or running is answered instead of starting a second."""
    async with db.transaction():
        # Serialize one user's requests so two clicks make one export.
        await DataExport.raw("SELECT pg_advisory_xact_lock(24337, hashtext({}))", str(user_id))
        open_ = (
            await DataExport.select(*DataExport.all_columns())
            .where((DataExport.user == user_id) & DataExport.status.is_in(["pending", "running"]))
            .first()
        )
        if open_ is not None:
            return view(open_, settings)
        rows = await DataExport.insert(DataExport(user=user_id)).returning(*DataExport.all_columns())
        await enqueue(JOB, {"export_id": rows[0]["id"]}, queue_name="account")
    return view(rows[0], settings)


async def get_export(user_id: int, export_id: int, settings: Settings) -> ExportView:
    row = (
        await DataExport.select(*DataExport.all_columns())
        .where((DataExport.id == export_id) & (DataExport.user == user_id))
        .first()
    )
    if row is None:
        raise NotFound("no such export")
    return view(row, settings)


async def _progress(export_id: int, user_id: int, percent: int, status: str = "running") -> None:
    async with db.transaction():
        await DataExport.update({DataExport.progress: percent, DataExport.status: status}).where(
            DataExport.id == export_id
        )
        await outbox.emit(kinds.user(user_id), "export.progress", {"id": str(export_id), "percent": percent})


def media_files(settings: Settings, urls: list[str]) -> list[tuple[Path, str]]:
    """Local media files behind ``/media/...`` URLs (never outside ``DATA_DIR/media``)."""
    root = (settings.data_dir / "media").resolve()
    found = []
    for url in urls:
        path_part = url.split("?", 1)[0]
        marker = "/media/"
        if marker not in path_part:
            continue
        rel = path_part.split(marker, 1)[1]
        path = (root / rel).resolve()
        if path.is_relative_to(root) and path.is_file():
            found.append((path, f"media/{rel}"))
    return found


def _write_zip(target: Path, files: dict[str, bytes], media: list[tuple[Path, str]]) -> int:
    tmp = target.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for path, arcname in media:
            zf.write(path, arcname)
    tmp.replace(target)
    return target.stat().st_size


async def build(export_id: int, settings: Settings) -> None:
    """The job: gather every section, zip it with the media, then notify with the signed link."""
    row = await DataExport.select(*DataExport.all_columns()).where(DataExport.id == export_id).first()
    if row is None or row["status"] in ("ready", "failed"):
        return
    user_id = row["user"]
    try:
        files: dict[str, bytes] = {}
        steps = len(SECTIONS) + 1
        for i, (name, sql) in enumerate(SECTIONS, start=1):
            rows = await DataExport.raw(sql, *([user_id] * sql.count("{}")))
            payload: Any = rows[0] if name == "profile.json" and rows else rows
            files[name] = msgspec.json.format(msgspec.json.encode(payload), indent=2)
            await _progress(export_id, user_id, int(90 * i / steps))
        profile = msgspec.json.decode(files["profile.json"]) if files["profile.json"] != b"[]" else {}
        urls = [m["url"] for m in msgspec.json.decode(files["media.json"])]
        if isinstance(profile, dict) and profile.get("avatar_url"):
            urls.append(profile["avatar_url"])
        media = media_files(settings, urls)
        files["README.txt"] = (
            b"Your Social Flow data: one JSON file per kind of record, and your uploaded media under media/.\n"
        )
        file_name = f"{export_id}-{secrets.token_hex(8)}.zip"
        size = await asyncio.to_thread(_write_zip, exports_dir(settings) / file_name, files, media)
    except Exception as exc:
        log.exception("data_export_failed", export_id=export_id)
        DATA_EXPORTS.labels(outcome="failed").inc()
        await DataExport.update(
            {DataExport.status: "failed", DataExport.error: str(exc)[:500], DataExport.finished_at: datetime.now(UTC)}
        ).where(DataExport.id == export_id)
        raise
    now = datetime.now(UTC)
    expires = (now + LINK_TTL).replace(microsecond=0)
    url = links.download_url(settings.public_url, settings.security.secret_key, export_id, int(expires.timestamp()))
    async with db.transaction():
        await DataExport.update(
            {
                DataExport.status: "ready",
                DataExport.progress: 100,
                DataExport.file_name: file_name,
                DataExport.size_bytes: size,
                DataExport.finished_at: now,
                DataExport.expires_at: expires,
            }
        ).where(DataExport.id == export_id)
        await outbox.emit(kinds.user(user_id), "export.progress", {"id": str(export_id), "percent": 100})
        extra = {"export_id": str(export_id), "download_url": url, "expires_at": expires.isoformat()}
        await notify(user_id, "data_export_ready", None, "data_export", export_id, extra)
    DATA_EXPORTS.labels(outcome="ready").inc()
    log.info("data_export_ready", export_id=export_id, size=size, media=len(media))


async def open_download(export_id: int, expires: int, signature: str, settings: Settings) -> tuple[Path, str]:
    """The zip behind a signed link; an expired, forged or unknown link is ``NotFound``."""
    if not links.valid(settings.security.secret_key, export_id, expires, signature):
        raise NotFound("this download link is invalid or has expired")
    row = await DataExport.select(DataExport.file_name, DataExport.status).where(DataExport.id == export_id).first()
    if row is None or row["status"] != "ready" or not row["file_name"]:
        raise NotFound("this download link is invalid or has expired")
    path = exports_dir(settings) / row["file_name"]
    if not path.is_file():
        raise NotFound("this download link is invalid or has expired")
    return path, f"social-flow-export-{export_id}.zip"


async def purge_expired(settings: Settings) -> int:
    """Delete export files whose link expired; return how many."""
    rows = await DataExport.raw(
        "WITH old AS (SELECT id, file_name FROM data_exports WHERE expires_at < now() AND file_name IS NOT NULL "
        "FOR UPDATE) UPDATE data_exports d SET file_name = NULL FROM old WHERE d.id = old.id "
        "RETURNING old.file_name AS old_name",
    )
    for row in rows:
        (exports_dir(settings) / row["old_name"]).unlink(missing_ok=True)
    return len(rows)
