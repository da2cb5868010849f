"""Exports: a job gathers a user's data as JSON files plus their media into one zip, reporting progress.

Progress goes to ``data_exports.progress`` and, live, as ``export.progress {id, percent}`` on the
owner's ``user:{id}`` channel; the end is an ``export.ready`` event and a ``data_export_ready``
notification carrying a signed download link valid 24 h, and only while the session that asked for the
export stays signed in and the password stays the same (``server.account_data.links``).
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
from models.accounts import User
from server import db, outbox
from server.account_data import links, queries
from server.account_data.schemas import ExportView
from server.errors import NotFound
from server.jobqueue import enqueue
from server.notifications.services import notify
from server.observability.metrics import DATA_EXPORTS
from server.realtime import kinds
from server.settings import Settings

log = structlog.get_logger(__name__)

LINK_TTL = timedelta(hours=24)
JOB = "account_data.export"


def exports_dir(settings: Settings) -> Path:
    folder = settings.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_GONE = "this download link is invalid, has expired, or was voided by a sign-out or a password change"


def view(row: dict[str, Any], settings: Settings, session_id: int = 0, password_hash: str | None = None) -> ExportView:
    """The export; once ready, its link for ``session_id`` (the caller's session) under ``password_hash``."""
    url = None
    ready = row["status"] == "ready" and row["expires_at"] is not None and row["expires_at"] > datetime.now(UTC)
    if ready and password_hash is not None:
        expires = int(row["expires_at"].timestamp())
        sec = settings.security.secret_key
        url = links.download_url(settings.public_url, sec, row["id"], expires, session_id, password_hash)
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


async def request_export(user_id: int, session_id: int, settings: Settings) -> ExportView:
    """Queue an export; one already pending or running is answered instead of starting a second.

    Its link, when ready, is bound to ``session_id`` (the caller's session)."""
    async with db.transaction():
        # Serialize one user's requests so two clicks make one export.
        await queries.lock_user_exports(user_id)
        open_ = (
            await DataExport.select(*DataExport.all_columns())
            .where((DataExport.user == user_id) & DataExport.status.is_in(["pending", "running"]))
            .first()
        )
        if open_ is not None:
            return view(open_, settings)
        rows = await DataExport.insert(DataExport(user=user_id)).returning(*DataExport.all_columns())
        await enqueue(JOB, {"export_id": rows[0]["id"], "session_id": session_id}, queue_name="account")
    return view(rows[0], settings)


async def _password_hash(user_id: int) -> str | None:
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    return None if row is None else str(row["password_hash"])


async def get_export(user_id: int, session_id: int, export_id: int, settings: Settings) -> ExportView:
    """The caller's export, its link (once ready) bound to the caller's session."""
    row = (
        await DataExport.select(*DataExport.all_columns())
        .where((DataExport.id == export_id) & (DataExport.user == user_id))
        .first()
    )
    if row is None:
        raise NotFound("no such export")
    return view(row, settings, session_id, await _password_hash(user_id))


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


async def build(export_id: int, settings: Settings, session_id: int = 0) -> None:
    """The job: gather every section, zip it with the media, then notify with a link for ``session_id``."""
    row = await DataExport.select(*DataExport.all_columns()).where(DataExport.id == export_id).first()
    if row is None or row["status"] in ("ready", "failed"):
        return
    user_id = row["user"]
    try:
        files: dict[str, bytes] = {}
        steps = len(queries.SECTIONS) + 1
        for i, (name, query) in enumerate(queries.SECTIONS, start=1):
            rows = await queries.export_section(query, user_id)
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
    password_hash = await _password_hash(user_id) or ""
    sec, at = settings.security.secret_key, int(expires.timestamp())
    url = links.download_url(settings.public_url, sec, export_id, at, session_id, password_hash)
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


async def open_download(
    export_id: int, expires: int, session_id: int, signature: str, settings: Settings
) -> tuple[Path, str]:
    """The zip behind a signed link; an expired, forged, unknown or voided link is ``NotFound`` (one answer for
    all: the link says nothing about which)."""
    now = datetime.now(UTC).timestamp()
    # Checks that need no database first: a link we never made (expiry past the 24 h we give, a signature that is
    # not 64 hex digits) or one that expired costs no query.
    if not now <= expires <= now + LINK_TTL.total_seconds() + 60 or not 0 < session_id < 1 << 63:
        raise NotFound(_GONE)
    if not links.well_formed(signature):
        raise NotFound(_GONE)
    row = await queries.download_state(export_id, session_id)
    if row is None or row["status"] != "ready" or not row["file_name"]:
        raise NotFound(_GONE)
    if not links.valid(settings.security.secret_key, export_id, expires, session_id, row["password_hash"], signature):
        raise NotFound(_GONE)  # forged, or the password changed since the link was made
    if not row["session_live"] or row["suspended_at"] is not None:
        raise NotFound(_GONE)  # signed out (that session, or all), or the account's deletion was requested
    path = exports_dir(settings) / row["file_name"]
    if not path.is_file():
        raise NotFound(_GONE)
    return path, f"social-flow-export-{export_id}.zip"


async def purge_expired(settings: Settings) -> int:
    """Delete export files whose link expired; return how many."""
    names = await queries.expire_export_files()
    for name in names:
        (exports_dir(settings) / name).unlink(missing_ok=True)
    return len(names)
