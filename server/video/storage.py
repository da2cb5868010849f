"""Where processed video files live: one small interface, a local-filesystem and an S3 implementation.

Keys are ``/``-separated relative paths (``{video_id}/720p/seg_003.ts``). Implementations guarantee:
``put_dir`` makes every file of a finished folder readable at once per file (never a partial file);
``read`` streams a byte range in bounded chunks (memory stays flat whatever the file size);
``delete_prefix`` removes every key under a prefix and is idempotent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import anyio
import msgspec

CHUNK = 1 << 20


class Stat(msgspec.Struct, frozen=True):
    size: int
    etag: str
    mtime: float


class Storage(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def put_dir(self, prefix: str, folder: Path) -> None: ...
    async def stat(self, key: str) -> Stat | None: ...
    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]: ...
    async def delete_prefix(self, prefix: str) -> None: ...


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


class LocalStorage:
    """Files under ``root``; ``put_dir`` moves files in (a rename on the same filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key escapes the storage root")
        return path

    async def put_dir(self, prefix: str, folder: Path) -> None:
        def move() -> None:
            for src in _files(folder):
                dst = self._path(f"{prefix}/{src.relative_to(folder).as_posix()}")
                dst.parent.mkdir(parents=True, exist_ok=True)
                tmp = dst.with_name(dst.name + ".tmp")
                shutil.move(src, tmp)
                os.replace(tmp, dst)  # readers see the whole file or none

        await anyio.to_thread.run_sync(move)

    async def stat(self, key: str) -> Stat | None:
        try:
            st = self._path(key).stat()
        except (OSError, ValueError):
            return None
        return Stat(size=st.st_size, etag=f'"{st.st_size:x}-{int(st.st_mtime_ns):x}"', mtime=st.st_mtime)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start..end`` (inclusive)."""
        fd = os.open(self._path(key), os.O_RDONLY)
        try:
            pos = start
            while pos <= end:
                n = min(CHUNK, end - pos + 1)
                chunk = os.pread(fd, n, pos) if n <= 64 * 1024 else await anyio.to_thread.run_sync(os.pread, fd, n, pos)
                if not chunk:
                    return
                pos += len(chunk)
                yield chunk
        finally:
            os.close(fd)

    async def delete_prefix(self, prefix: str) -> None:
        with contextlib.suppress(ValueError):
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(self._path(prefix), ignore_errors=True))


class S3Storage:
    """An S3 bucket (or any S3-compatible server at ``endpoint_url``), keys under ``prefix``."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, region: str) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint_url, self.region = endpoint_url, region
        self._cm: Any = None
        self.client: Any = None

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def start(self) -> None:
        import aioboto3

        self._cm = aioboto3.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region)
        self.client = await self._cm.__aenter__()

    async def close(self) -> None:
        if self._cm is not None:
            await self._cm.__aexit__(None, None, None)
            self._cm = self.client = None

    async def put_dir(self, prefix: str, folder: Path) -> None:
        from server.video.media import content_type

        for src in _files(folder):
            key = self._key(f"{prefix}/{src.relative_to(folder).as_posix()}")
            # upload_file streams from disk in parts (multipart above 8 MiB): memory stays bounded.
            await self.client.upload_file(str(src), self.bucket, key, ExtraArgs={"ContentType": content_type(key)})

    async def stat(self, key: str) -> Stat | None:
        try:
            head = await self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _status(exc) in (403, 404):
                return None
            raise
        return Stat(size=int(head["ContentLength"]), etag=head["ETag"], mtime=head["LastModified"].timestamp())

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        obj = await self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}")
        body = obj["Body"]
        try:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete_prefix(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/") + "/")):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                await self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def from_url(url: str, data_dir: Path, endpoint_url: str | None = None, region: str = "us-east-1") -> Storage:
    """``""`` -> local files under ``data_dir/media/videos``; ``s3://bucket/prefix`` -> S3."""
    if not url:
        return LocalStorage(data_dir / "media" / "videos")
    parts = urlsplit(url)
    if parts.scheme == "s3" and parts.netloc:
        return S3Storage(parts.netloc, parts.path, endpoint_url, region)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.path))
    raise ValueError(f"STORAGE_URL must be s3://bucket/prefix or file:///path, not {url!r}")
