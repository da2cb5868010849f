"""Profiles and the social graph: follow (with requests for private accounts), block, mute, lists."""

from __future__ import annotations

from typing import Any

import msgspec

from server import cursor, db, events, sql
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.realtime import kinds, recheck
from server.social import schemas
from server.social.queries import USER_COLS, blocked_either_way, is_blocked_either_way
from server.social.runtime import SocialRuntime
from server.social.services.visibility import user_summary


async def _bump(user_id: int, column: str, delta: int) -> None:
    await sql.execute(f"UPDATE users SET {column} = {column} + $2 WHERE id = $1", user_id, delta)  # noqa: S608 — column is one of the counter names its callers pass as literals


async def _bump_pair(follower: int, followee: int, delta: int) -> None:
    # Always lock the lower id first, so A->B and B->A at once cannot deadlock.
    for uid in sorted((follower, followee)):
        await _bump(uid, "following_count" if uid == follower else "followers_count", delta)


async def _lock_pair(a: int, b: int) -> None:
    """Serialize block changes between two users (either direction), so their relation events follow
    commit order: an unblock that saw no reverse block cannot overtake a reverse block committing meanwhile."""
    lo, hi = sorted((a, b))
    await sql.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", f"blocks:{lo}:{hi}")


class GraphService:
    def __init__(self, runtime: SocialRuntime) -> None:
        self.rt = runtime

    async def user_row(self, username: str, viewer: int | None) -> Any:
        """The user called ``username`` as ``viewer`` may see it; 404 when missing or when they blocked the viewer."""
        row = await sql.fetchrow(
            f"SELECT {USER_COLS}, bio, links, created_at FROM users WHERE username = $1 AND suspended_at IS NULL",  # noqa: S608 — constant column list; values are $n
            username.lower(),
        )
        if row is None:
            raise NotFound("no such user")
        if viewer and viewer != row["id"]:
            blocked_me = await sql.fetchval(
                "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2)", row["id"], viewer
            )
            if blocked_me:
                raise NotFound("no such user")
        return row

    async def relationship(self, viewer: int | None, other: int) -> schemas.Relationship:
        if not viewer or viewer == other:
            return schemas.Relationship()
        r = await sql.fetchrow(
            """SELECT
                 EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2) AS following,
                 EXISTS (SELECT 1 FROM follows WHERE follower = $2 AND followee = $1) AS followed_by,
                 EXISTS (SELECT 1 FROM follow_requests WHERE requester = $1 AND target = $2) AS requested,
                 EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2) AS blocking,
                 EXISTS (SELECT 1 FROM mutes WHERE muter = $1 AND muted = $2) AS muting""",
            viewer,
            other,
        )
        assert r is not None
        return schemas.Relationship(**dict(r))

    async def profile(self, username: str, viewer: int | None) -> schemas.Profile:
        row = await self.user_row(username, viewer)
        return self._profile(row, await self.relationship(viewer, row["id"]))

    async def profile_by_id(self, user_id: int) -> schemas.Profile:
        row = await sql.fetchrow(f"SELECT {USER_COLS}, bio, links, created_at FROM users WHERE id = $1", user_id)  # noqa: S608 — constant column list; values are $n
        if row is None:
            raise NotFound("no such user")
        return self._profile(row, schemas.Relationship())

    @staticmethod
    def _profile(row: Any, rel: schemas.Relationship) -> schemas.Profile:
        links = row["links"]
        if isinstance(links, str):
            links = msgspec.json.decode(links)
        return schemas.Profile(
            **msgspec.structs.asdict(user_summary(row)),
            bio=row["bio"],
            links=[schemas.Link(label=str(x.get("label", "")), url=str(x.get("url", ""))) for x in links or []],
            created_at=row["created_at"],
            relationship=rel,
        )

    async def update_me(self, viewer: int, data: schemas.ProfileUpdate) -> schemas.Profile:
        sets: list[str] = []
        args: list[object] = [viewer]
        for name in ("display_name", "bio", "is_private"):
            value = getattr(data, name)
            if value is not msgspec.UNSET:
                args.append(value.strip() if isinstance(value, str) else value)
                sets.append(f"{name} = ${len(args)}")
        if data.links is not msgspec.UNSET:
            args.append(msgspec.json.encode(data.links).decode())
            sets.append(f"links = ${len(args)}::jsonb")
        if sets:
            async with db.transaction():
                await sql.execute(f"UPDATE users SET {', '.join(sets)}, updated_at = now() WHERE id = $1", *args)  # noqa: S608 — SET names come from ProfileUpdate's fields, values are $n
                if data.is_private is False:
                    await self._accept_all(viewer)
                if data.is_private is True:  # strangers watching this account's posts and streams lose them now
                    await recheck.request(kinds=[kinds.POST, kinds.LIVE])
        return await self.profile_by_id(viewer)

    async def _accept_all(self, viewer: int) -> None:
        """An account that stops being private accepts its pending requests (as Mastodon does)."""
        rows = await sql.fetch("DELETE FROM follow_requests WHERE target = $1 RETURNING requester", viewer)
        for r in rows:
            if await self._insert_follow(r["requester"], viewer):
                await events.dispatch(events.FollowAccepted(actor_id=viewer, follower_id=r["requester"]))
                await self.rt.graph_changed(r["requester"])

    async def follow(self, viewer: int, username: str) -> schemas.FollowResult:
        target = await self.user_row(username, viewer)
        tid = target["id"]
        if tid == viewer:
            raise ValidationFailed("you cannot follow yourself")
        if await sql.fetchval("SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2)", viewer, tid):
            raise Conflict("you block this user: unblock them first")
        async with db.transaction():
            if await sql.fetchval(
                "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2)", viewer, tid
            ):
                state = "following"
            elif target["is_private"]:
                status = await sql.execute(
                    "INSERT INTO follow_requests (id, requester, target, created_at) VALUES ($1, $2, $3, now()) "
                    "ON CONFLICT DO NOTHING",
                    _new_id(),
                    viewer,
                    tid,
                )
                if sql.changed(status):
                    await events.dispatch(events.Followed(actor_id=viewer, target_id=tid, pending=True))
                state = "requested"
            else:
                if await self._insert_follow(viewer, tid):
                    await events.dispatch(events.Followed(actor_id=viewer, target_id=tid))
                state = "following"
        await self.rt.graph_changed(viewer)  # rebuilt with the new author on next read
        return await self._result(state, tid)

    async def _insert_follow(self, follower: int, followee: int) -> bool:
        status = await sql.execute(
            "INSERT INTO follows (id, follower, followee, created_at) VALUES ($1, $2, $3, now()) "
            "ON CONFLICT DO NOTHING",
            _new_id(),
            follower,
            followee,
        )
        if not sql.changed(status):
            return False
        await _bump_pair(follower, followee, 1)
        return True

    async def _result(self, state: str, tid: int) -> schemas.FollowResult:
        row = await sql.fetchrow(f"SELECT {USER_COLS} FROM users WHERE id = $1", tid)  # noqa: S608 — constant column list; values are $n
        return schemas.FollowResult(state=state, user=user_summary(row))  # type: ignore[arg-type]

    async def unfollow(self, viewer: int, username: str) -> schemas.FollowResult:
        tid = (await self.user_row(username, viewer))["id"]
        async with db.transaction():
            await self._remove_follow(viewer, tid)
            await sql.execute("DELETE FROM follow_requests WHERE requester = $1 AND target = $2", viewer, tid)
            await recheck.request(users=[viewer])  # followers-only posts they watched
        await self.rt.graph_changed(viewer)
        return await self._result("none", tid)

    async def _remove_follow(self, follower: int, followee: int) -> None:
        status = await sql.execute("DELETE FROM follows WHERE follower = $1 AND followee = $2", follower, followee)
        if sql.changed(status):
            await _bump_pair(follower, followee, -1)

    async def follow_requests(self, viewer: int, limit: int, cur: str | None) -> schemas.UserPage:
        after = cursor.decode(self.rt.secret_key, "requests", cur)
        rows = await sql.fetch(
            f"SELECT r.id AS rid, {', '.join('u.' + c for c in USER_COLS.split(', '))} FROM follow_requests r "  # noqa: S608 — constant column list; values are $n
            "JOIN users u ON u.id = r.requester WHERE r.target = $1 AND r.id < $2 "
            "ORDER BY r.id DESC LIMIT $3",
            viewer,
            int(after[0]) if after else (1 << 63) - 1,
            limit + 1,
        )
        return self._page(rows, limit, "requests", "rid")

    async def answer_request(self, viewer: int, username: str, accept: bool) -> None:
        rid = (await self.user_row(username, viewer))["id"]
        async with db.transaction():
            status = await sql.execute("DELETE FROM follow_requests WHERE requester = $1 AND target = $2", rid, viewer)
            if not sql.changed(status):
                raise NotFound("no pending request from this user")
            if accept and await self._insert_follow(rid, viewer):
                await events.dispatch(events.FollowAccepted(actor_id=viewer, follower_id=rid))
        if accept:
            await self.rt.graph_changed(rid)

    async def block(self, viewer: int, username: str) -> None:
        tid = (await self.user_row(username, viewer))["id"]
        if tid == viewer:
            raise ValidationFailed("you cannot block yourself")
        async with db.transaction():
            await _lock_pair(viewer, tid)
            await sql.execute(
                "INSERT INTO blocks (id, blocker, blocked, created_at) VALUES ($1, $2, $3, now()) "
                "ON CONFLICT DO NOTHING",
                _new_id(),
                viewer,
                tid,
            )
            # A block removes follows (and pending requests) both ways.
            await self._remove_follow(viewer, tid)
            await self._remove_follow(tid, viewer)
            await sql.execute(
                "DELETE FROM follow_requests WHERE (requester = $1 AND target = $2) "
                "OR (requester = $2 AND target = $1)",
                viewer,
                tid,
            )
            await recheck.request(users=[viewer, tid], relations=[(viewer, tid, True)])
            await events.dispatch(events.Blocked(actor_id=viewer, target_id=tid))
        await self.rt.graph_changed(viewer)
        await self.rt.graph_changed(tid)

    async def unblock(self, viewer: int, username: str) -> None:
        tid = (await self.user_row(username, viewer))["id"]
        async with db.transaction():
            await _lock_pair(viewer, tid)
            status = await sql.execute("DELETE FROM blocks WHERE blocker = $1 AND blocked = $2", viewer, tid)
            if sql.changed(status) and not await sql.fetchval(
                "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2)", tid, viewer
            ):
                # No block left either way: their events reach each other's sockets again.
                await recheck.request(relations=[(viewer, tid, False)])

    async def mute(self, viewer: int, username: str, on: bool) -> None:
        tid = (await self.user_row(username, viewer))["id"]
        if tid == viewer:
            raise ValidationFailed("you cannot mute yourself")
        if on:
            await sql.execute(
                "INSERT INTO mutes (id, muter, muted, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
                _new_id(),
                viewer,
                tid,
            )
        else:
            await sql.execute("DELETE FROM mutes WHERE muter = $1 AND muted = $2", viewer, tid)

    async def connections(
        self, username: str, viewer: int | None, which: str, limit: int, cur: str | None
    ) -> schemas.UserPage:
        """Followers (``which='followers'``) or followees of ``username``, newest follow first."""
        target = await self.user_row(username, viewer)
        tid = target["id"]
        if target["is_private"] and viewer != tid:
            follows = viewer and await sql.fetchval(
                "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2)", viewer, tid
            )
            if not follows:
                raise Forbidden("this account is private")
        after = cursor.decode(self.rt.secret_key, which, cur)
        mine, other = ("followee", "follower") if which == "followers" else ("follower", "followee")
        rows = await sql.fetch(
            f"SELECT f.id AS fid, {', '.join('u.' + c for c in USER_COLS.split(', '))} FROM follows f "  # noqa: S608 — columns chosen from two constants; values are $n
            f"JOIN users u ON u.id = f.{other} WHERE f.{mine} = $1 AND f.id < $2 "
            f"AND NOT {blocked_either_way('$3', 'u.id')} ORDER BY f.id DESC LIMIT $4",
            tid,
            int(after[0]) if after else (1 << 63) - 1,
            viewer or 0,
            limit + 1,
        )
        return self._page(rows, limit, which, "fid")

    def _page(self, rows: list[Any], limit: int, kind: str, key: str) -> schemas.UserPage:
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = cursor.encode(self.rt.secret_key, kind, [str(rows[-1][key])]) if more and rows else None
        return schemas.UserPage(items=[user_summary(r) for r in rows], next_cursor=nxt)

    async def search(self, viewer: int | None, q: str, limit: int, cur: str | None) -> schemas.UserPage:
        """Users whose username or display name resemble ``q``, best match first (pg_trgm)."""
        q = q.strip().lower()
        if not q:
            raise ValidationFailed("q must not be empty")
        after = cursor.decode(self.rt.secret_key, "search", cur)
        if after and after[0] != q:
            raise ValidationFailed("cursor belongs to another query")
        offset = int(after[1]) if after else 0
        rows = await sql.fetch(
            f"SELECT {USER_COLS}, greatest(similarity(username, $1), similarity(lower(display_name), $1)) AS rank "  # noqa: S608 — constant column list; values are $n
            "FROM users u WHERE suspended_at IS NULL AND (username % $1 OR lower(display_name) % $1 "
            "OR username LIKE $2 OR lower(display_name) LIKE $2) "
            f"AND NOT {blocked_either_way('$3', 'u.id')} "
            "ORDER BY (username = $1) DESC, rank DESC, followers_count DESC, id LIMIT $4 OFFSET $5",
            q,
            _like_prefix(q),
            viewer or 0,
            limit + 1,
            offset,
        )
        more = len(rows) > limit
        nxt = cursor.encode(self.rt.secret_key, "search", [q, offset + limit]) if more else None
        return schemas.UserPage(items=[user_summary(r) for r in rows[:limit]], next_cursor=nxt)


def _like_prefix(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _new_id() -> int:
    from models.ids import new_id

    return new_id()


__all__ = ["GraphService", "is_blocked_either_way"]
