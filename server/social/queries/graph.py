"""The social graph: profiles, follows, follow requests, blocks, mutes, and a user's last-seen.

Through ``server.sql`` rather than the builder: reads outside a transaction may go to a read replica
(``server.replicas``), writes need ``ON CONFLICT DO NOTHING`` with its row count, and the counters are
set-based ``x = x + n`` updates taken in a fixed lock order. Values are bind parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.social.queries.columns import PROFILE_COLS, USER_COLS
from server.social.queries.visibility import blocked_either_way

_U_COLS = ", ".join("u." + c for c in USER_COLS.split(", "))
# The two follow counters, by the side of the follow a user is on.
_FOLLOW_COUNTERS = {
    "following_count": "UPDATE users SET following_count = following_count + $2 WHERE id = $1",
    "followers_count": "UPDATE users SET followers_count = followers_count + $2 WHERE id = $1",
}


async def live_user_by_username(username: str) -> Any:
    """The profile row of the unsuspended user called ``username`` (already lower-cased), or ``None``."""
    return await sql.fetchrow(
        f"SELECT {PROFILE_COLS} FROM users WHERE username = $1 AND suspended_at IS NULL",  # noqa: S608 — constant column list; values are $n
        username,
    )


async def profile_row(user_id: int) -> Any:
    """The profile row of ``user_id`` (suspended or not), or ``None``."""
    return await sql.fetchrow(f"SELECT {PROFILE_COLS} FROM users WHERE id = $1", user_id)  # noqa: S608 — constant column list; values are $n


async def user_row(user_id: int) -> Any:
    """The ``USER_COLS`` row of ``user_id`` (a user summary), or ``None``."""
    return await sql.fetchrow(f"SELECT {USER_COLS} FROM users WHERE id = $1", user_id)  # noqa: S608 — constant column list; values are $n


async def blocks(blocker: int, blocked: int) -> bool:
    """Whether ``blocker`` blocks ``blocked`` (this direction only)."""
    return bool(
        await sql.fetchval("SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2)", blocker, blocked)
    )


async def follows(follower: int, followee: int) -> bool:
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2)", follower, followee
        )
    )


async def relationship(viewer: int, other: int) -> Any:
    """The five relationship flags of ``viewer`` towards ``other``, in one round trip."""
    return await sql.fetchrow(
        """SELECT
             EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2) AS following,
             EXISTS (SELECT 1 FROM follows WHERE follower = $2 AND followee = $1) AS followed_by,
             EXISTS (SELECT 1 FROM follow_requests WHERE requester = $1 AND target = $2) AS requested,
             EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2) AS blocking,
             EXISTS (SELECT 1 FROM mutes WHERE muter = $1 AND muted = $2) AS muting""",
        viewer,
        other,
    )


# The profile columns a user may change, with the cast each value needs.
_PROFILE_SETS = {"display_name": "", "bio": "", "is_private": "", "links": "::jsonb"}


async def update_profile(user_id: int, values: dict[str, Any]) -> None:
    """Set the given profile columns (names from ``_PROFILE_SETS``; ``links`` as JSON text) and ``updated_at``."""
    if unknown := set(values) - set(_PROFILE_SETS):
        raise ValueError(f"not profile columns: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ${i}{_PROFILE_SETS[name]}" for i, name in enumerate(values, start=2))
    await sql.execute(f"UPDATE users SET {sets}, updated_at = now() WHERE id = $1", user_id, *values.values())  # noqa: S608 — SET names checked against _PROFILE_SETS; values are $n


async def bump_follow_counter(user_id: int, counter: str, delta: int) -> None:
    """Add ``delta`` to ``counter`` (``following_count`` or ``followers_count``) of ``user_id``."""
    await sql.execute(_FOLLOW_COUNTERS[counter], user_id, delta)


async def lock_block_pair(a: int, b: int) -> None:
    """Transaction-scoped advisory lock on the (unordered) pair, serializing their block changes."""
    lo, hi = sorted((a, b))
    await sql.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", f"blocks:{lo}:{hi}")


async def insert_follow(row_id: int, follower: int, followee: int) -> bool:
    """Record the follow; ``False`` when it existed already."""
    status = await sql.execute(
        "INSERT INTO follows (id, follower, followee, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
        row_id,
        follower,
        followee,
    )
    return bool(sql.changed(status))


async def delete_follow(follower: int, followee: int) -> bool:
    """Remove the follow; ``False`` when there was none."""
    status = await sql.execute("DELETE FROM follows WHERE follower = $1 AND followee = $2", follower, followee)
    return bool(sql.changed(status))


async def insert_follow_request(row_id: int, requester: int, target: int) -> bool:
    """Record the pending request; ``False`` when it existed already."""
    status = await sql.execute(
        "INSERT INTO follow_requests (id, requester, target, created_at) VALUES ($1, $2, $3, now()) "
        "ON CONFLICT DO NOTHING",
        row_id,
        requester,
        target,
    )
    return bool(sql.changed(status))


async def delete_follow_request(requester: int, target: int) -> bool:
    """Remove the pending request; ``False`` when there was none."""
    status = await sql.execute("DELETE FROM follow_requests WHERE requester = $1 AND target = $2", requester, target)
    return bool(sql.changed(status))


async def delete_follow_requests_between(a: int, b: int) -> None:
    """Remove pending requests between ``a`` and ``b``, both ways."""
    await sql.execute(
        "DELETE FROM follow_requests WHERE (requester = $1 AND target = $2) OR (requester = $2 AND target = $1)",
        a,
        b,
    )


async def take_follow_requests(target: int) -> list[int]:
    """Delete every pending request to ``target``; the requesters, for accepting them."""
    rows = await sql.fetch("DELETE FROM follow_requests WHERE target = $1 RETURNING requester", target)
    return [r["requester"] for r in rows]


async def follow_requests_page(target: int, below: int, n: int) -> list[Any]:
    """Pending requests to ``target`` below request id ``below``, newest first.

    Each row is ``rid`` (the request's id, the page key) and the requester's ``USER_COLS``.
    """
    return await sql.fetch(
        f"SELECT r.id AS rid, {_U_COLS} FROM follow_requests r "  # noqa: S608 — constant column list; values are $n
        "JOIN users u ON u.id = r.requester WHERE r.target = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3",
        target,
        below,
        n,
    )


# Followers of a user are on the ``followee`` side of ``follows``; followees on the ``follower`` side.
_CONNECTIONS = {
    which: f"SELECT f.id AS fid, {_U_COLS} FROM follows f "  # noqa: S608 — columns chosen from constants; values are $n
    f"JOIN users u ON u.id = f.{other} WHERE f.{mine} = $1 AND f.id < $2 "
    f"AND NOT {blocked_either_way('$3', 'u.id')} ORDER BY f.id DESC LIMIT $4"
    for which, mine, other in (("followers", "followee", "follower"), ("following", "follower", "followee"))
}


async def connections_page(user_id: int, which: str, viewer: int, below: int, n: int) -> list[Any]:
    """Followers (``which='followers'``) or followees of ``user_id`` below follow id ``below``, newest first,
    without anyone in a block relation with ``viewer``: ``fid`` plus the user's ``USER_COLS``."""
    return await sql.fetch(_CONNECTIONS[which], user_id, below, viewer, n)


async def search_users(q: str, like: str, viewer: int, n: int, offset: int) -> list[Any]:
    """Unsuspended users resembling ``q`` (pg_trgm) or starting with ``like``, best match first, none in a block
    relation with ``viewer``."""
    return await sql.fetch(
        f"SELECT {USER_COLS}, greatest(similarity(username, $1), similarity(lower(display_name), $1)) AS rank "  # noqa: S608 — constant column list and block predicate; values are $n
        "FROM users u WHERE suspended_at IS NULL AND (username % $1 OR lower(display_name) % $1 "
        "OR username LIKE $2 OR lower(display_name) LIKE $2) "
        f"AND NOT {blocked_either_way('$3', 'u.id')} "
        "ORDER BY (username = $1) DESC, rank DESC, followers_count DESC, id LIMIT $4 OFFSET $5",
        q,
        like,
        viewer,
        n,
        offset,
    )


async def insert_block(row_id: int, blocker: int, blocked: int) -> None:
    await sql.execute(
        "INSERT INTO blocks (id, blocker, blocked, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
        row_id,
        blocker,
        blocked,
    )


async def delete_block(blocker: int, blocked: int) -> bool:
    """Remove the block; ``False`` when there was none."""
    status = await sql.execute("DELETE FROM blocks WHERE blocker = $1 AND blocked = $2", blocker, blocked)
    return bool(sql.changed(status))


async def insert_mute(row_id: int, muter: int, muted: int) -> None:
    await sql.execute(
        "INSERT INTO mutes (id, muter, muted, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
        row_id,
        muter,
        muted,
    )


async def delete_mute(muter: int, muted: int) -> None:
    await sql.execute("DELETE FROM mutes WHERE muter = $1 AND muted = $2", muter, muted)


async def touch_last_active(user_id: int) -> None:
    """Set the user's durable, coarse last-seen to now."""
    await sql.execute("UPDATE users SET last_active_at = now() WHERE id = $1", user_id)
