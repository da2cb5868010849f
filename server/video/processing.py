"""Probe and transcode one video (the body of the ``video.process`` job), and replays from files.

Progress goes live on ``video:{id}``; the end state (``ready`` with its renditions, or ``failed`` with
a reason) commits together with its ``video.ready`` / ``video.failed`` event and the owner's
``video_ready`` notification.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import msgspec
import structlog

from models.ids import new_id
from server import db, outbox
from server.realtime import kinds
from server.video import media
from server.video.publishing import sync_post
from server.video.queries import processing as processing_queries
from server.video.queries import uploads as upload_queries
from server.video.runtime import VideoRuntime
from server.video.services import clean_tags, search_text
from server.video.uploads import discard_staged

log = structlog.get_logger(__name__)


class Processor:
    def __init__(self, runtime: VideoRuntime) -> None:
        self.rt = runtime

    async def run(self, video_id: int) -> None:
        row = await processing_queries.processing_source(video_id)
        if row is None or row["status"] != "processing":
            return  # deleted or already done: nothing to do
        src = Path(row["source_path"] or "")
        if not row["source_path"] or not src.is_file():  # noqa: ASYNC240 - one stat on local disk
            await self.fail(video_id, "source_missing")
            return
        try:
            probe = await media.probe(src)
        except media.NotAVideo as exc:
            log.info("video_not_a_video", video_id=video_id, reason=str(exc))
            await self.fail(video_id, "not_a_video")
            return
        if probe.duration <= 0:
            await self.fail(video_id, "not_a_video")
            return
        work = self.rt.work_dir / str(video_id)
        shutil.rmtree(work, ignore_errors=True)  # a retried job starts clean
        work.mkdir(parents=True)
        try:
            rungs = media.plan(probe)
            cfg = self.rt.settings
            args = media.command(src, work, probe, rungs, preset=cfg.preset, threads=cfg.transcode_threads)
            try:
                await media.run(args, probe.duration, self._reporter(video_id))
            except media.TranscodeFailed as exc:
                log.info("video_transcode_failed", video_id=video_id, error=str(exc)[-500:])
                await self.fail(video_id, "transcode_failed")
                return
            renditions = media.finish(work, probe, rungs)
            # A file cut short (moov intact, data missing) decodes to less than it declares.
            if renditions[0].duration < probe.duration * 0.9 - 0.5:
                await self.fail(video_id, "truncated")
                return
            await self.rt.storage.put_dir(str(video_id), work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        await self.ready(video_id, probe, renditions, row["source_path"])

    def _reporter(self, video_id: int) -> Any:
        last = {"percent": 0, "at": 0.0}

        async def report(fraction: float) -> None:
            percent = int(fraction * 100)
            now = time.monotonic()
            # At most one event a second (and only when the number moves): progress is a hint, not a log.
            if percent <= last["percent"] or now - last["at"] < 1.0:
                return
            last.update(percent=percent, at=now)
            async with db.transaction():
                await outbox.emit(kinds.video(video_id), "video.progress", {"id": str(video_id), "percent": percent})

        return report

    async def ready(self, video_id: int, probe: media.Probe, renditions: list[media.Rendition], source: str) -> None:
        from server.notifications.services import notify

        views = [{"height": r.height, "width": r.width, "bandwidth": r.bandwidth} for r in renditions]
        async with db.transaction():
            row = await processing_queries.mark_ready(
                video_id,
                probe.duration,
                probe.width,
                probe.height,
                msgspec.json.encode(views).decode(),
            )
            if row is None:  # deleted while transcoding: drop what was written
                await self.rt.storage.delete_prefix(str(video_id))
                return
            await notify(row["owner"], "video_ready", None, "video", video_id, {"title": row["title"]})
            await outbox.emit(
                kinds.video(video_id),
                "video.ready",
                {"id": str(video_id), "duration": probe.duration, "renditions": views},
            )
        log.info("video_ready", video_id=video_id, duration=probe.duration, renditions=len(views))
        self.rt.forget(video_id)
        discard_staged(self.rt, video_id, source)
        await sync_post(self.rt, video_id)

    async def fail(self, video_id: int, reason: str) -> None:
        async with db.transaction():
            row = await processing_queries.mark_failed(video_id, reason)
            if row is None:
                return
            await outbox.emit(kinds.video(video_id), "video.failed", {"id": str(video_id), "failure_reason": reason})
        discard_staged(self.rt, video_id, row["source_path"])


async def create_from_file(
    rt: VideoRuntime,
    owner_id: int,
    title: str,
    path: Path,
    *,
    visibility: str = "public",
    description: str = "",
    tags: list[str] | None = None,
) -> int:
    """A video from a file already on this machine (a live replay): processed by the same job. Its id.

    The file is used in place and never deleted by the pipeline (only staged uploads are).
    """
    if not path.is_file():  # noqa: ASYNC240 - one stat on local disk
        raise FileNotFoundError(path)
    tags = clean_tags(tags or [])
    moderation = "pending" if rt.settings.require_approval else "approved"
    video_id = new_id()
    size = path.stat().st_size  # noqa: ASYNC240
    async with db.transaction():
        await processing_queries.insert_video_from_file(
            video_id,
            owner_id,
            title[:255],
            description,
            tags,
            search_text(title, description, tags),
            visibility,
            moderation,
            size,
            str(path.resolve()),  # noqa: ASYNC240
        )
        job_id = await processing_queries.enqueue_process(video_id)
        await upload_queries.set_job(video_id, job_id)
    return video_id
