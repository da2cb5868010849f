"""Post images: public ones by plain URL, the others (followers-only, private...) by a URL bound to one viewer.

``MediaSigner`` makes the URLs: ``/media/images/{name}?sig={expires}-{viewer}-{mac}``, the bound token of
``server.video.signing`` (``sign_for``'s format under the ``image-viewer`` scope, a key of its own).
``MediaController`` serves ``/media/images/{name}``: 404 for a deleted post or a suspended author whatever
the signature, the file for a public post of a public account, and for anything else only with a valid,
unexpired token, and only while the viewer it names may still see the post (asked again at most
``signing.ACCESS_RECHECK`` s apart per process): a block, an unfollow or the post made private closes the
URL, not its expiry. An upload not yet attached to a post opens for its uploader only. Public images answer
``Cache-Control: public, max-age=signing.PUBLIC_MAX_AGE`` (the origin itself asks on every request), the
others ``private``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import File

from server.errors import NotFound
from server.social.queries import media as media_queries
from server.video import signing

PREFIX = "/media/images/"
SCOPE = "image-viewer"


class MediaSigner:
    """Signs image paths for one viewer; an expiry rounded to ``ttl`` keeps a viewer's URLs stable (cacheable)."""

    def __init__(self, secret_key: str, changes: signing.AccessChanges, ttl: int = 3600) -> None:
        self.secret_key, self.ttl = secret_key, ttl
        # Whether a token's viewer may still see the image's post (per name and viewer, per process).
        self.access = signing.AccessCache(changes)

    def url(self, path: str, viewer: int, now: float | None = None) -> str:
        """``path`` opening for ``viewer`` only while they may see its post (and at most until the expiry)."""
        now = time.time() if now is None else now
        expires = (int(now) // self.ttl + 2) * self.ttl  # valid between ttl and 2 x ttl from now
        token = signing.token_for(self.secret_key, path.removeprefix(PREFIX), viewer, expires, scope=SCOPE)
        return f"{path}?sig={token}"

    def viewer(self, name: str, token: str) -> int | None:
        """The viewer a valid, unexpired token for the image ``name`` was issued to; ``None`` otherwise."""
        if len(token) > 80:
            return None
        grant = signing.verify_for(self.secret_key, name, token, scope=SCOPE)
        return None if grant is None else grant[1]


def is_public(visibility: str, author_private: bool) -> bool:
    return visibility == "public" and not author_private


async def _may_open(signer: MediaSigner, name: str, viewer: int, row: Any) -> bool:
    allowed = signer.access.get(name, viewer)
    if allowed is None:
        asked_at = time.monotonic()
        if row["post"] is None:  # the uploader's preview (the upload answer's URL)
            allowed = viewer == row["owner"]
        else:
            allowed = await media_queries.may_see_image(viewer, row["post"])
        signer.access.put(name, viewer, allowed, asked_at)
    return allowed


class MediaController(Controller):
    path = PREFIX.rstrip("/")
    include_in_schema = False

    @get("/{name:str}")
    async def image(self, name: FromPath[str], state: State, sig: FromQuery[str] = "") -> File:
        if "/" in name or not name.endswith(".jpg"):
            raise NotFound("no such file")
        path = PREFIX + name
        row: Any = await media_queries.media_file_access(path)
        if row is None or row["deleted_at"] is not None or row["suspended_at"]:
            raise NotFound("no such file")  # unknown, deleted, or its author suspended
        signer: MediaSigner = state["social"].media
        attached_public = row["visibility"] is not None and is_public(row["visibility"], row["is_private"])
        # Bounded: a CDN keeps a public image at most this long after its post stops being public or is deleted.
        headers = {"Cache-Control": f"public, max-age={signing.PUBLIC_MAX_AGE}"}
        if not attached_public:
            viewer = signer.viewer(name, sig)
            if viewer is None or not await _may_open(signer, name, viewer, row):
                raise NotFound("no such file")
            # private: a shared cache would go on serving the file to anyone with the URL after access is lost.
            headers["Cache-Control"] = "private, max-age=300"
        file = Path(state["settings"].data_dir) / "media" / "images" / name
        if not file.is_file():
            raise NotFound("no such file")
        return File(file, media_type="image/jpeg", content_disposition_type="inline", headers=headers)
