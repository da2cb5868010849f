"""``/media/videos/{id}/{token}/{file}``: playlists, segments, poster and storyboard, with ``Range``.

``token`` is ``p`` for a video anyone may watch, else a signature from ``GET /videos/{id}/playback``
(``server.video.signing``): valid for every file of that video only, until it expires, and only while
the viewer it was issued to may still watch the video (checked again at most ``signing.ACCESS_RECHECK`` s
apart per process, at once after the video itself changed). Answers carry
what a CDN needs: ``Cache-Control`` (public files for at most ``signing.PUBLIC_MAX_AGE``, so a CDN stops
serving a video within that bound of it going private or deleted; signed files ``private``), ``ETag``,
``Last-Modified``, ``Accept-Ranges``.
"""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Any, cast

from litestar import Controller, Request, Response, get, head
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Stream

from server.errors import Forbidden, NotFound
from server.video import signing
from server.video.deps import provide_runtime
from server.video.media import content_type
from server.video.queries import reads as read_queries
from server.video.runtime import VideoRuntime
from server.video.views import anonymous_may_see

NAME = re.compile(r"(?:[0-9]{2,4}p/)?[A-Za-z0-9_]{1,40}\.(?:m3u8|ts|m4s|jpg|vtt)")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for a single ``Range``; ``None`` for the whole file."""
    if not header:
        return None
    m = _RANGE.fullmatch(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # multi-range or malformed: RFC 9110 lets us ignore it and send the whole file
    if not m.group(1):  # the last N bytes
        n = int(m.group(2))
        if n == 0:
            raise RangeNotSatisfiable
        return max(0, size - n), size - 1
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable
    return start, end


async def _authorize(rt: VideoRuntime, video_id: int, token: str) -> str:
    """The ``Cache-Control`` for files the token opens; 403 otherwise."""
    if token == signing.PUBLIC:
        public = rt.cached_public(video_id)
        if public is None:
            row = await read_queries.visible_row(0, video_id)
            public = row is not None and anonymous_may_see(row)
            rt.remember_public(video_id, public)
        if not public:
            raise Forbidden("this video's files need a signed URL (GET /api/v1/videos/{id}/playback)")
        return "public, max-age=300"
    grant = signing.verify_for(rt.secret_key, video_id, token)
    if grant is None:
        raise Forbidden("the signature is invalid or expired")
    expires, viewer = grant
    # The URL is a capability of one viewer: honoured while that viewer may still watch the video.
    allowed = rt.access.get(video_id, viewer)
    if allowed is None:
        allowed = await read_queries.may_play(viewer, video_id)
        rt.access.put(video_id, viewer, allowed)
    if not allowed:
        raise Forbidden("this URL's viewer may no longer watch this video")
    # private: a shared cache (a CDN) would go on serving the file to anyone with the URL after access is lost.
    return f"private, max-age={max(0, min(3600, int(expires - time.time())))}"


async def _serve(
    rt: VideoRuntime, request: Request, video_id: int, token: str, name: str, *, body: bool
) -> Response[Any]:
    name = name.lstrip("/")
    if NAME.fullmatch(name) is None or not 0 < video_id < 1 << 63:
        raise NotFound("no such file")
    cache = await _authorize(rt, video_id, token)
    if name.endswith((".ts", ".m4s", ".jpg")) and token == signing.PUBLIC:
        # Not a year: a segment never changes under its name, but the video may stop being public.
        cache = f"public, max-age={signing.PUBLIC_MAX_AGE}"
    key = f"{video_id}/{name}"
    stat = await rt.storage.stat(key)
    if stat is None:
        raise NotFound("no such file")
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": cache,
        "ETag": stat.etag,
        "Last-Modified": formatdate(stat.mtime, usegmt=True),
        "Vary": "Origin",
    }
    if request.headers.get("if-none-match") == stat.etag:
        return Response(b"", status_code=304, headers=headers)
    try:
        span = byte_range(request.headers.get("range"), stat.size)
    except RangeNotSatisfiable:
        return Response(b"", status_code=416, headers={**headers, "Content-Range": f"bytes */{stat.size}"})
    status, (start, end) = (200, (0, stat.size - 1)) if span is None else (206, span)
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{stat.size}"
    headers["Content-Length"] = str(end - start + 1)
    media_type = content_type(name)
    if not body or end < start:
        return Response(b"", status_code=status, headers=headers, media_type=media_type)
    return Stream(rt.storage.read(key, start, end), status_code=status, headers=headers, media_type=media_type)


class MediaController(Controller):
    path = "/media/videos"
    include_in_schema = False
    dependencies = {"video_runtime": Provide(provide_runtime, sync_to_thread=False)}  # served outside /api/v1

    @get("/{video_id:int}/{token:str}/{name:path}")
    async def file(
        self,
        request: Request,
        video_id: FromPath[int],
        token: FromPath[str],
        name: FromPath[str],
        video_runtime: NamedDependency[VideoRuntime],
    ) -> Response[Any]:
        return await _serve(video_runtime, request, video_id, token, name, body=True)

    @head("/{video_id:int}/{token:str}/{name:path}")
    async def file_head(
        self,
        request: Request,
        video_id: FromPath[int],
        token: FromPath[str],
        name: FromPath[str],
        video_runtime: NamedDependency[VideoRuntime],
    ) -> Response[None]:
        return cast("Response[None]", await _serve(video_runtime, request, video_id, token, name, body=False))
