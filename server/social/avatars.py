"""Avatar images: validated by content (not name or type header), resized, re-encoded without metadata."""

from __future__ import annotations

import asyncio
import io
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from server.errors import TooLarge, ValidationFailed
from server.social import sql

ALLOWED = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


def process(raw: bytes, size: int) -> bytes:
    """A ``size`` x ``size`` JPEG of the image in ``raw`` with no EXIF or other metadata; 422 if not an image."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ALLOWED:
                raise ValidationFailed("avatar must be a JPEG, PNG, WebP or GIF image")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("avatar has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as opened:
            opened.load()
            upright: Image.Image = ImageOps.exif_transpose(opened) or opened
            fitted = ImageOps.fit(upright.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            # A freshly built image carries no info: EXIF, GPS, comments are all gone.
            fitted.save(out, "JPEG", quality=88, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise ValidationFailed("avatar is not a readable image") from exc


async def store_avatar(user_id: int, raw: bytes, *, media_dir: Path, max_bytes: int, size: int) -> str:
    """Process and keep ``raw`` as ``user_id``'s avatar; the new ``avatar_url``."""
    if len(raw) > max_bytes:
        raise TooLarge(f"avatar must be at most {max_bytes} bytes")
    if not raw:
        raise ValidationFailed("avatar file is empty")
    data = await asyncio.to_thread(process, raw, size)
    folder = media_dir / "avatars"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{user_id}-{secrets.token_hex(8)}.jpg"
    await asyncio.to_thread((folder / name).write_bytes, data)
    url = f"/media/avatars/{name}"
    old = await sql.fetchval("SELECT avatar_url FROM users WHERE id = $1", user_id)
    await sql.execute("UPDATE users SET avatar_url = $2, updated_at = now() WHERE id = $1", user_id, url)
    if isinstance(old, str) and old.startswith("/media/avatars/"):
        (folder / old.rsplit("/", 1)[-1]).unlink(missing_ok=True)
    return url
