"""tus 1.0.0 resumable uploads (core, creation, termination, expiration, checksum sha1).

State that must survive a restart is on disk and in the database: the staged file's size IS the
upload offset (bytes written before a crash are never lost or counted twice), the declared length
and expiry are columns. A PATCH streams the body to the staged file in bounded chunks and holds an
exclusive ``flock`` on it, so two PATCHes to one upload never interleave, even across processes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import anyio

from channels.suppressed import suppressed
from server import db, outbox
from server.deps import CurrentUser
from server.errors import Conflict, DomainError, NotFound, TooLarge, ValidationFailed
from server.params import parse_id
from server.video import schemas
from server.video.queries import processing as processing_queries
from server.video.queries import reads as read_queries
from server.video.queries import uploads as upload_queries
from server.video.runtime import VideoRuntime
from server.video.services import VideoService

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration,checksum"
WRITE_CHUNK = 1 << 20


class BadRequest(DomainError):
    status, code, title = 400, "bad_request", "Bad request"


class Gone(DomainError):
    status, code, title = 410, "gone", "The upload expired"


class ChecksumMismatch(DomainError):
    status, code, title = 460, "checksum_mismatch", "Checksum mismatch"


class Unsupported(DomainError):
    status, code, title = 415, "unsupported_media_type", "PATCH bodies are application/offset+octet-stream"


class VersionMismatch(DomainError):
    status, code, title = 412, "precondition_failed", "Tus-Resumable 1.0.0 is required"

    def __init__(self) -> None:
        super().__init__(headers={"Tus-Version": TUS_VERSION})


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata``: ``key base64value,key2 base64value2``."""
    out: dict[str, str] = {}
    for pair in (raw or "").split(","):
        key, _, value = pair.strip().partition(" ")
        if not key:
            continue
        try:
            out[key] = base64.b64decode(value.strip(), validate=True).decode() if value.strip() else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"Upload-Metadata value of {key!r} is not base64 UTF-8") from exc
    return out


def parse_checksum(raw: str | None) -> bytes | None:
    if not raw:
        return None
    algorithm, _, value = raw.strip().partition(" ")
    if algorithm.lower() != "sha1":
        raise BadRequest("only the sha1 checksum algorithm is supported")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise BadRequest("Upload-Checksum is not base64") from exc
    if len(digest) != 20:
        raise BadRequest("a sha1 checksum is 20 bytes")
    return digest


def staged_path(rt: VideoRuntime, video_id: int) -> Path:
    return rt.uploads_dir / f"{video_id}.part"


def discard_staged(rt: VideoRuntime, video_id: int, source_path: str | None = None) -> None:
    """Remove the staged bytes of ``video_id`` (only files the upload area owns)."""
    candidates = [staged_path(rt, video_id)]
    if source_path and Path(source_path).resolve().parent == rt.uploads_dir.resolve():
        candidates.append(Path(source_path))
    for path in candidates:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class UploadService:
    def __init__(self, runtime: VideoRuntime) -> None:
        self.rt = runtime

    def options_headers(self) -> dict[str, str]:
        return {
            "Tus-Resumable": TUS_VERSION,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(self.rt.settings.max_bytes),
            "Tus-Checksum-Algorithm": "sha1",
        }

    async def _row(self, user: CurrentUser, video_id: int) -> Any:
        row = await upload_queries.own_upload(video_id, user.id)
        if row is None:  # someone else's upload is not found, like any object one may not see
            raise NotFound("no such upload")
        return row

    async def _check_size(self, user: CurrentUser, length: int, video_id: int | None) -> None:
        cfg = self.rt.settings
        if length > cfg.max_bytes:
            raise TooLarge(f"Upload-Length is over Tus-Max-Size ({cfg.max_bytes} bytes)")
        used = await read_queries.used_bytes(user.id)
        if video_id is not None:
            used -= await upload_queries.declared_length(video_id)
        if used + length > cfg.quota_bytes:
            raise TooLarge(f"this upload would pass your quota ({cfg.quota_bytes} bytes, {used} used)")

    async def create(self, user: CurrentUser, video_id: int | None, length: int, metadata: dict[str, str]) -> Any:
        """tus creation: declare ``length`` (checked against the limits before any byte); ``(video_id, expires)``."""
        if length < 0:
            raise BadRequest("Upload-Length must be a non-negative integer")
        if video_id is None:  # a bare tus client: the video comes from the metadata
            video_id = (metadata.get("video_id") and parse_id(metadata["video_id"], "no such video")) or None
        if video_id is None:
            await self._check_size(user, length, None)
            title = (metadata.get("title") or metadata.get("filename") or metadata.get("name") or "Untitled")[:255]
            visibility = metadata.get("visibility") or "public"
            if visibility not in ("public", "unlisted", "followers", "subscribers", "private"):
                raise ValidationFailed("visibility is not one of public, unlisted, followers, subscribers, private")
            created = await VideoService(self.rt).create(
                user,
                schemas.VideoCreate(title=title or "Untitled", visibility=visibility),  # type: ignore[arg-type]
            )
            video_id = int(created.id)
        row = await self._row(user, video_id)
        if row["status"] != "uploading" or row["upload_length"] is not None:
            raise Conflict("this video's upload was already created")
        await self._check_size(user, length, video_id)
        expires = datetime.now(UTC) + timedelta(seconds=self.rt.settings.upload_expiry_seconds)
        staged = staged_path(self.rt, video_id)
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.touch()
        await upload_queries.start_upload(video_id, length, expires)
        if length == 0:
            await self._complete(video_id)
        return video_id, expires

    async def head(self, user: CurrentUser, video_id: int) -> tuple[int, int, datetime | None]:
        """``(offset, length, expires)``; the staged file's size is the offset while uploading."""
        row = await self._row(user, video_id)
        if row["upload_length"] is None:
            raise NotFound("this upload was not created yet (POST with Upload-Length)")
        if row["status"] != "uploading":
            return row["upload_length"], row["upload_length"], None
        self._not_expired(row)
        return _size(staged_path(self.rt, video_id)), row["upload_length"], row["upload_expires_at"]

    def _not_expired(self, row: Any) -> None:
        if row["upload_expires_at"] is not None and row["upload_expires_at"] < datetime.now(UTC):
            raise Gone("this upload expired; create the video again")

    async def patch(
        self,
        user: CurrentUser,
        video_id: int,
        offset: int,
        content_length: int | None,
        checksum: bytes | None,
        body: AsyncIterator[bytes],
    ) -> tuple[int, datetime | None]:
        """Append ``body`` at ``offset``; ``(new offset, expires)``. Nothing past the declared length is kept."""
        row = await self._row(user, video_id)
        length = row["upload_length"]
        if length is None:
            raise NotFound("this upload was not created yet (POST with Upload-Length)")
        if row["status"] != "uploading":
            raise Conflict("this upload is complete")
        self._not_expired(row)
        path = staged_path(self.rt, video_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise Conflict("another PATCH to this upload is in progress") from exc
            start = os.fstat(fd).st_size
            if offset != start:
                raise Conflict(f"Upload-Offset is {start}", headers={"Upload-Offset": str(start)})
            if content_length is not None and start + content_length > length:
                raise TooLarge(f"this PATCH would pass Upload-Length ({length} bytes)")
            end = await self._write(fd, start, length, checksum, body)
        finally:
            os.close(fd)  # releases the lock
        expires = datetime.now(UTC) + timedelta(seconds=self.rt.settings.upload_expiry_seconds)
        await upload_queries.advance_upload(video_id, end, expires)
        if end == length:
            await self._complete(video_id)
            return end, None
        return end, expires

    async def _write(self, fd: int, start: int, length: int, checksum: bytes | None, body: AsyncIterator[bytes]) -> int:
        """Stream ``body`` to ``fd`` from ``start`` in bounded chunks; roll back on overflow or a bad checksum."""
        digest = hashlib.sha1() if checksum is not None else None  # noqa: S324 - tus's checksum algorithm
        pos, buf = start, bytearray()

        async def flush() -> None:
            nonlocal pos
            if buf:
                data = bytes(buf)
                buf.clear()
                await anyio.to_thread.run_sync(os.pwrite, fd, data, pos)
                pos += len(data)

        try:
            async for chunk in body:
                if pos + len(buf) + len(chunk) > length:
                    raise TooLarge(f"the body passes Upload-Length ({length} bytes)")
                if digest is not None:
                    digest.update(chunk)
                buf += chunk
                if len(buf) >= WRITE_CHUNK:
                    await flush()
            await flush()
            if digest is not None and digest.digest() != checksum:
                raise ChecksumMismatch("the body does not match Upload-Checksum")
        except (TooLarge, ChecksumMismatch):
            os.ftruncate(fd, start)  # nothing of a refused PATCH is kept
            raise
        except BaseException:
            # The client went away: keep what arrived (the next HEAD says where to resume), unless a checksum
            # was promised for the whole body, which a partial body cannot meet.
            if digest is not None:
                os.ftruncate(fd, start)
            else:
                with suppressed("upload_tail_not_kept", level="debug"):  # the client's error is what is raised
                    os.pwrite(fd, bytes(buf), pos)
            raise
        return pos

    async def _complete(self, video_id: int) -> None:
        """The last byte arrived: the video moves to ``processing`` and its job is queued, atomically."""
        from server.realtime import kinds

        path = staged_path(self.rt, video_id)
        async with db.transaction():
            if not await upload_queries.finish_upload(video_id, str(path)):
                return
            job_id = await processing_queries.enqueue_process(video_id)
            await upload_queries.set_job(video_id, job_id)
            await outbox.emit(kinds.video(video_id), "video.progress", {"id": str(video_id), "percent": 0})

    async def terminate(self, user: CurrentUser, video_id: int) -> None:
        """tus termination: the upload and its video are gone, bytes included."""
        row = await self._row(user, video_id)
        if row["status"] != "uploading":
            raise Conflict("only an upload in progress can be terminated; DELETE the video instead")
        await upload_queries.delete_upload(video_id)
        discard_staged(self.rt, video_id)


async def expire_stale(rt: VideoRuntime) -> int:
    """Remove uploads whose expiry passed: their bytes and their videos. How many."""
    video_ids = await upload_queries.expire_uploads()
    for video_id in video_ids:
        discard_staged(rt, video_id)
    return len(video_ids)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
