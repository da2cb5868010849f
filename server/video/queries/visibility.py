"""Who may see a video: THE rule of the domain (``visible``, ``listed``, ``unlocked``), and the columns
and ``FROM`` every read of a video uses."""

from __future__ import annotations

from server.social.queries.visibility import blocked_either_way

# $1 is the viewer id (0 when anonymous). ``v`` is the video, ``a`` its owner (users row).
_BLOCKED = blocked_either_way("$1", "v.owner")
_FOLLOWS = "EXISTS (SELECT 1 FROM follows f WHERE f.follower = $1 AND f.followee = v.owner)"
STAFF = "EXISTS (SELECT 1 FROM users st WHERE st.id = $1 AND st.role IN ('moderator', 'admin'))"


def subscriber_access() -> str:
    """SQL: the viewer ($1) may see the owner's ``subscribers`` videos: an active subscription (payments' rule)."""
    from server.payments.queries.access import subscriber_access as paid_access

    return paid_access("v.owner")


def unlocked() -> str:
    """SQL: viewer $1 may watch video ``v`` past its teaser: it is free, theirs, staff's to review, or bought."""
    from server.payments.queries.access import bought

    return f"(v.price_amount IS NULL OR v.owner = $1 OR {STAFF} OR {bought('video_id', 'v.id')})"


def visible(*, staff: bool = False) -> str:
    """SQL predicate: viewer $1 may see video ``v`` (owner ``a``). THE visibility rule of the domain.

    The owner sees their own videos in every state; staff see every live video (moderation). Anyone
    else sees ready, approved videos of owners they are not blocked with (either way): public and
    unlisted ones (public accounts; followers only for a private account), followers-only ones when
    following, subscribers-only ones with ``subscriber_access``. A suspended owner's videos are nobody's
    to see but staff's (as their posts: ``server.social.queries.visibility.VISIBLE``).
    """
    if staff:
        return "v.deleted_at IS NULL"
    return (
        "v.deleted_at IS NULL AND a.suspended_at IS NULL AND (v.owner = $1 OR ("
        f"v.status = 'ready' AND v.moderation = 'approved' AND NOT {_BLOCKED} AND ("
        f"(v.visibility IN ('public', 'unlisted') AND (NOT a.is_private OR {_FOLLOWS}))"
        f" OR (v.visibility = 'followers' AND {_FOLLOWS})"
        f" OR (v.visibility = 'subscribers' AND {subscriber_access()}))))"
    )


def listed(*, staff: bool = False) -> str:
    """``visible`` and meant for lists: ready, and not unlisted (unless it is the viewer's own)."""
    return f"{visible(staff=staff)} AND v.status = 'ready' AND (v.visibility <> 'unlisted' OR v.owner = $1)"


# Constant columns and the constant unlocked() rule: nothing from a request is spliced in.
VIDEO_COLS = (
    "v.id, v.owner, v.title, v.description, v.tags, v.visibility, v.status, v.failure_reason, v.moderation, "  # noqa: S608
    "v.duration, v.width, v.height, v.renditions, v.thumbnail, v.view_count, v.like_count, v.created_at, "
    "v.published_at, v.post, v.upload_length, v.upload_offset, v.job_id, v.source_path, v.size_bytes, "
    "v.price_amount, v.price_currency, " + unlocked() + " AS unlocked, "
    "a.username AS a_username, a.display_name AS a_display_name, a.avatar_url AS a_avatar_url, "
    "a.followers_count AS a_followers_count, a.following_count AS a_following_count, "
    "a.posts_count AS a_posts_count, a.is_private AS a_is_private, "
    'EXISTS (SELECT 1 FROM video_likes l WHERE l.video = v.id AND l."user" = $1) AS liked_by_me'
)
FROM = "FROM videos v JOIN users a ON a.id = v.owner"
