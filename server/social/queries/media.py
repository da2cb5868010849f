"""Uploads, avatars, and what serving a media file depends on.

Kept beside the other ``post_media`` statements: the access rule joins posts and users in one statement,
the orphan sweep is a set-based ``DELETE ... RETURNING``. Values are bind parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.payments.queries.access import bought
from server.social.queries.visibility import VISIBLE


async def replace_avatar(user_id: int, url: str) -> str | None:
    """Point the user's avatar at ``url``; the URL it had (its file is the caller's to remove)."""
    old = await sql.fetchval("SELECT avatar_url FROM users WHERE id = $1", user_id)
    await sql.execute("UPDATE users SET avatar_url = $2, updated_at = now() WHERE id = $1", user_id, url)
    return old if isinstance(old, str) else None


async def insert_upload(row_id: int, owner: int, url: str, width: int, height: int) -> Any:
    """Keep an uploaded image as ``owner``'s unattached media; its ``id, url, width, height``."""
    return await sql.fetchrow(
        "INSERT INTO post_media (id, owner, post, url, width, height, created_at) "
        "VALUES ($1, $2, NULL, $3, $4, $5, now()) RETURNING id, url, width, height",
        row_id,
        owner,
        url,
        width,
        height,
    )


async def media_file_access(url: str) -> Any:
    """What serving the media file at ``url`` depends on: its uploader and post, the post's visibility and
    deletion, its author's privacy and suspension (all ``NULL`` while unattached); ``None`` for an unknown URL."""
    return await sql.fetchrow(
        "SELECT m.owner, m.post, p.visibility, p.deleted_at, a.is_private, a.suspended_at FROM post_media m "
        "LEFT JOIN posts p ON p.id = m.post LEFT JOIN users a ON a.id = p.author WHERE m.url = $1",
        url,
    )


async def may_see_image(viewer: int, post_id: int) -> bool:
    """Whether ``viewer`` may see the images of ``post_id`` now: the post read's rule (visibility, blocks,
    follows, subscriptions) and, for a paid post, a purchase they keep (a post read shows no media otherwise)."""
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM posts p JOIN users a ON a.id = p.author WHERE p.id = $2 "  # noqa: S608 — the constant visibility and purchase rules; values are $n
            f"AND {VISIBLE} AND (p.price_amount IS NULL OR p.author = $1 OR {bought('post_id', 'p.id')}))",
            viewer,
            post_id,
        )
    )


async def delete_orphan_media(older_than_seconds: float) -> list[Any]:
    """Delete uploads never attached to a post and older than ``older_than_seconds``; their ``url``s."""
    return await sql.fetch(
        "DELETE FROM post_media WHERE post IS NULL AND created_at < now() - make_interval(secs => $1) RETURNING url",
        older_than_seconds,
    )
