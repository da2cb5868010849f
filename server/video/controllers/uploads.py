"""tus 1.0.0 at ``/uploads``: OPTIONS, POST (creation), HEAD, PATCH, DELETE (termination).

``POST /videos`` answers the video's ``upload_url`` (``/uploads/{video_id}``): POST there with
``Upload-Length`` creates the upload (``Location`` is that same URL), then PATCH the bytes. A bare tus
client may instead POST to ``/uploads`` with ``Upload-Metadata`` (``filename``/``title``, ``visibility``).
"""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, head, patch, post
from litestar.di import NamedDependency

from server.deps import CurrentUser
from server.openapi import problems
from server.params import PathId, parse_id
from server.social.deps import Viewer
from server.video.middleware import tus_options
from server.video.uploads import (
    TUS_VERSION,
    BadRequest,
    Unsupported,
    UploadService,
    VersionMismatch,
    http_date,
    parse_checksum,
    parse_metadata,
)

OFFSET_TYPE = "application/offset+octet-stream"


def _tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise VersionMismatch()


def _int_header(request: Request, name: str, *, required: bool = True) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise BadRequest(f"the {name} header is required")
        return None
    if not (raw.strip().isascii() and raw.strip().isdigit()) or len(raw.strip()) > 19:
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(raw)


def _empty(status: int, headers: dict[str, str]) -> Response[bytes]:
    return Response(b"", status_code=status, headers={"Tus-Resumable": TUS_VERSION, **headers})


class UploadController(Controller):
    path = "/uploads"
    tags = ["uploads (tus)"]
    middleware = [tus_options]  # tus OPTIONS discovery, on these routes only

    async def _create(
        self, request: Request, viewer: CurrentUser, uploads: UploadService, video_id: int | None
    ) -> Response[bytes]:
        _tus(request)
        if request.headers.get("upload-defer-length"):
            raise BadRequest("Upload-Defer-Length is not supported: send Upload-Length")
        length = _int_header(request, "upload-length")
        assert length is not None
        metadata = parse_metadata(request.headers.get("upload-metadata"))
        vid, expires = await uploads.create(viewer, video_id, length, metadata)
        headers = {"Location": uploads.rt.upload_url(vid), "Upload-Offset": "0"}
        if length > 0:
            headers["Upload-Expires"] = http_date(expires)
        return _empty(201, headers)

    @post("/", summary="tus creation: a new video from Upload-Metadata", responses=problems(400, 401, 403, 412, 413))
    async def create_bare(
        self, request: Request, viewer: Viewer, uploads: NamedDependency[UploadService]
    ) -> Response[bytes]:
        return await self._create(request, viewer, uploads, None)

    @post("/{video_id:str}", summary="tus creation for a video", responses=problems(400, 401, 404, 409, 412, 413))
    async def create(
        self, request: Request, video_id: PathId, viewer: Viewer, uploads: NamedDependency[UploadService]
    ) -> Response[bytes]:
        return await self._create(request, viewer, uploads, parse_id(video_id))

    @head("/{video_id:str}", summary="tus: the offset to resume from", responses=problems(401, 404, 410, 412))
    async def offset(
        self, request: Request, video_id: PathId, viewer: Viewer, uploads: NamedDependency[UploadService]
    ) -> Response[None]:
        _tus(request)
        offset, length, expires = await uploads.head(viewer, parse_id(video_id))
        headers = {"Upload-Offset": str(offset), "Upload-Length": str(length), "Cache-Control": "no-store"}
        if expires is not None:
            headers["Upload-Expires"] = http_date(expires)
        return Response(None, status_code=200, headers={"Tus-Resumable": TUS_VERSION, **headers})

    @patch(
        "/{video_id:str}",
        summary="tus: append bytes at Upload-Offset",
        responses=problems(400, 401, 404, 409, 410, 412, 413, 415, 460),
        request_max_body_size=None,  # the declared Upload-Length is the limit, checked by the service
    )
    async def append(
        self, request: Request, video_id: PathId, viewer: Viewer, uploads: NamedDependency[UploadService]
    ) -> Response[bytes]:
        _tus(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_TYPE:
            raise Unsupported()
        offset = _int_header(request, "upload-offset")
        assert offset is not None
        content_length = _int_header(request, "content-length", required=False)
        checksum = parse_checksum(request.headers.get("upload-checksum"))
        new_offset, expires = await uploads.patch(
            viewer, parse_id(video_id), offset, content_length, checksum, request.stream()
        )
        headers = {"Upload-Offset": str(new_offset)}
        if expires is not None:
            headers["Upload-Expires"] = http_date(expires)
        return _empty(204, headers)

    @delete(
        "/{video_id:str}",
        status_code=204,
        summary="tus termination",
        responses=problems(401, 404, 409, 412),
        response_headers={"Tus-Resumable": TUS_VERSION},
    )
    async def terminate(
        self, request: Request, video_id: PathId, viewer: Viewer, uploads: NamedDependency[UploadService]
    ) -> None:
        _tus(request)
        await uploads.terminate(viewer, parse_id(video_id))
