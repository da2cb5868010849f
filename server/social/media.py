"""Post images: public ones by plain URL, the others (followers-only, private) by signed, expiring URL.

``MediaSigner`` makes the URLs; ``MediaController`` serves ``/media/images/{name}``: 404 for a deleted
post or a suspended author whatever the signature, the file for a public post of a public account, and
for anything else only with a valid ``?exp=&sig=`` (issued to whoever could see the post when it was read).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import File

from server import security
from server.errors import NotFound
from server.social.queries import media as media_queries

PREFIX = "/media/images/"


class MediaSigner:
    """Signs media paths; an expiry rounded to ``ttl`` keeps URLs stable (cacheable) for a while."""

    def __init__(self, secret_key: str, ttl: int = 3600) -> None:
        self.secret_key, self.ttl = secret_key, ttl

    def url(self, path: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        expires = (int(now) // self.ttl + 2) * self.ttl  # valid between ttl and 2 x ttl from now
        return f"{path}?exp={expires}&sig={security.sign_path(path, expires, self.secret_key)}"

    def valid(self, path: str, expires: str, signature: str) -> bool:
        return security.check_path_signature(path, expires, signature, self.secret_key)


def is_public(visibility: str, author_private: bool) -> bool:
    return visibility == "public" and not author_private


class MediaController(Controller):
    path = PREFIX.rstrip("/")
    include_in_schema = False

    @get("/{name:str}")
    async def image(
        self, name: FromPath[str], state: State, exp: FromQuery[str] = "", sig: FromQuery[str] = ""
    ) -> File:
        if "/" in name or not name.endswith(".jpg"):
            raise NotFound("no such file")
        path = PREFIX + name
        row: Any = await media_queries.media_file_access(path)
        if row is None or row["deleted_at"] is not None or row["suspended_at"]:
            raise NotFound("no such file")  # unknown, deleted, or its author suspended
        social = state["social"]
        attached_public = row["visibility"] is not None and is_public(row["visibility"], row["is_private"])
        # Not attached yet (the uploader's preview, by the signed URL of the upload answer) or not public.
        if not attached_public and not social.media.valid(path, exp, sig):
            raise NotFound("no such file")
        file = Path(state["settings"].data_dir) / "media" / "images" / name
        if not file.is_file():
            raise NotFound("no such file")
        return File(file, media_type="image/jpeg", content_disposition_type="inline")
