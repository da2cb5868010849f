"""Avatar images: validated by content (not name or type header), resized, re-encoded without metadata."""

from __future__ import annotations

import asyncio
import functools
import io
import secrets
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from server.errors import TooLarge, ValidationFailed
from server.social.queries import media as media_queries

ALLOWED = {"JPEG", "PNG", "WEBP", "GIF"}


def process(raw: bytes, size: int, *, square: bool = True, max_pixels: int = 12_000_000) -> tuple[bytes, int, int]:
    """A JPEG of the image in ``raw`` with no EXIF or other metadata, and its size; 422 if not an image.

    ``square``: cropped to ``size`` x ``size`` (avatars); otherwise scaled to fit within ``size``.
    """
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ALLOWED:
                raise ValidationFailed("avatar must be a JPEG, PNG, WebP or GIF image")
            # Refused from the header, before anything is decoded (decompression bombs).
            if probe.width * probe.height > max_pixels:
                raise ValidationFailed(f"image has too many pixels (at most {max_pixels})")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as opened:
            # JPEGs decode straight at a reduced scale when the output is smaller: far less memory.
            opened.draft("RGB", (size, size))
            opened.load()
            upright: Image.Image = ImageOps.exif_transpose(opened) or opened
            rgb = upright.convert("RGB")
            if square:
                fitted = ImageOps.fit(rgb, (size, size), Image.Resampling.LANCZOS)
            else:
                fitted = ImageOps.contain(rgb, (size, size), Image.Resampling.LANCZOS) if max(rgb.size) > size else rgb
            out = io.BytesIO()
            # A freshly built image carries no info: EXIF, GPS, comments are all gone.
            fitted.save(out, "JPEG", quality=88, optimize=True)
            return out.getvalue(), fitted.width, fitted.height
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise ValidationFailed("avatar is not a readable image") from exc


async def _decode(
    pool: Executor | None, raw: bytes, size: int, square: bool, max_pixels: int
) -> tuple[bytes, int, int]:
    work = functools.partial(process, raw, size, square=square, max_pixels=max_pixels)
    return await asyncio.get_running_loop().run_in_executor(pool, work)


async def store_avatar(
    user_id: int,
    raw: bytes,
    *,
    media_dir: Path,
    max_bytes: int,
    size: int,
    pool: Executor | None = None,
    max_pixels: int = 12_000_000,
) -> str:
    """Process and keep ``raw`` as ``user_id``'s avatar; the new ``avatar_url``."""
    if len(raw) > max_bytes:
        raise TooLarge(f"avatar must be at most {max_bytes} bytes")
    if not raw:
        raise ValidationFailed("avatar file is empty")
    data, _, _ = await _decode(pool, raw, size, True, max_pixels)
    folder = media_dir / "avatars"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{user_id}-{secrets.token_hex(8)}.jpg"
    await asyncio.to_thread((folder / name).write_bytes, data)
    url = f"/media/avatars/{name}"
    old = await media_queries.replace_avatar(user_id, url)
    if old is not None and old.startswith("/media/avatars/"):
        (folder / old.rsplit("/", 1)[-1]).unlink(missing_ok=True)
    return url


async def store_post_image(
    user_id: int,
    raw: bytes,
    *,
    media_dir: Path,
    max_bytes: int,
    size: int,
    pool: Executor | None = None,
    max_pixels: int = 20_000_000,
) -> Any:
    """Process ``raw`` like an avatar (bounded, not cropped) and keep it as ``user_id``'s unattached media."""
    from models.ids import new_id

    if len(raw) > max_bytes:
        raise TooLarge(f"an image must be at most {max_bytes} bytes")
    if not raw:
        raise ValidationFailed("image file is empty")
    data, width, height = await _decode(pool, raw, size, False, max_pixels)
    folder = media_dir / "images"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{user_id}-{secrets.token_hex(10)}.jpg"
    await asyncio.to_thread((folder / name).write_bytes, data)
    return await media_queries.insert_upload(new_id(), user_id, f"/media/images/{name}", width, height)
