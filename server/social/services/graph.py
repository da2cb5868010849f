"""Profiles and the social graph: follow (with requests for private accounts), block, mute, lists."""

from __future__ import annotations

from typing import Any

import msgspec

from server import cursor, db, events
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.params import MAX_ID
from server.realtime import kinds, recheck
from server.social import schemas
from server.social.queries import graph as graph_queries
from server.social.queries.visibility import is_blocked_either_way
from server.social.runtime import SocialRuntime
from server.social.services.visibility import user_summary


async def _bump_pair(follower: int, followee: int, delta: int) -> None:
    # Always lock the lower id first, so A->B and B->A at once cannot deadlock.
    for uid in sorted((follower, followee)):
        await graph_queries.bump_follow_counter(uid, "following_count" if uid == follower else "followers_count", delta)


async def _lock_pair(a: int, b: int) -> None:
    """Serialize block changes between two users (either direction), so their relation events follow
    commit order: an unblock that saw no reverse block cannot overtake a reverse block committing meanwhile."""
    await graph_queries.lock_block_pair(a, b)


class GraphService:
    def __init__(self, runtime: SocialRuntime) -> None:
        self.rt = runtime

    async def user_row(self, username: str, viewer: int | None) -> Any:
        """The user called ``username`` as ``viewer`` may see it; 404 when missing or when they blocked the viewer."""
        row = await graph_queries.live_user_by_username(username.lower())
        if row is None:
            raise NotFound("no such user")
        if viewer and viewer != row["id"] and await graph_queries.blocks(row["id"], viewer):
            raise NotFound("no such user")
        return row

    async def relationship(self, viewer: int | None, other: int) -> schemas.Relationship:
        if not viewer or viewer == other:
            return schemas.Relationship()
        r = await graph_queries.relationship(viewer, other)
        assert r is not None
        return schemas.Relationship(**dict(r))

    async def profile(self, username: str, viewer: int | None) -> schemas.Profile:
        row = await self.user_row(username, viewer)
        return self._profile(row, await self.relationship(viewer, row["id"]))

    async def profile_by_id(self, user_id: int) -> schemas.Profile:
        row = await graph_queries.profile_row(user_id)
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
        values: dict[str, Any] = {}
        for name in ("display_name", "bio", "is_private"):
            value = getattr(data, name)
            if value is not msgspec.UNSET:
                values[name] = value.strip() if isinstance(value, str) else value
        if data.links is not msgspec.UNSET:
            values["links"] = msgspec.json.encode(data.links).decode()
        if values:
            async with db.transaction():
                await graph_queries.update_profile(viewer, values)
                if data.is_private is False:
                    await self._accept_all(viewer)
                if data.is_private is True:  # strangers watching this account's posts and streams lose them now
                    await recheck.request(kinds=[kinds.POST, kinds.LIVE])
            if data.is_private is True:  # and its signed media URLs, at once here (other nodes: the re-check)
                self.rt.access_changes.note_all()
        return await self.profile_by_id(viewer)

    async def _accept_all(self, viewer: int) -> None:
        """An account that stops being private accepts its pending requests (as Mastodon does)."""
        for requester in await graph_queries.take_follow_requests(viewer):
            if await self._insert_follow(requester, viewer):
                await self.rt.bus.dispatch(events.FollowAccepted(actor_id=viewer, follower_id=requester))
                await self.rt.graph_changed(requester)

    async def follow(self, viewer: int, username: str) -> schemas.FollowResult:
        target = await self.user_row(username, viewer)
        tid = target["id"]
        if tid == viewer:
            raise ValidationFailed("you cannot follow yourself")
        if await graph_queries.blocks(viewer, tid):
            raise Conflict("you block this user: unblock them first")
        async with db.transaction():
            if await graph_queries.follows(viewer, tid):
                state = "following"
            elif target["is_private"]:
                if await graph_queries.insert_follow_request(_new_id(), viewer, tid):
                    await self.rt.bus.dispatch(events.Followed(actor_id=viewer, target_id=tid, pending=True))
                state = "requested"
            else:
                if await self._insert_follow(viewer, tid):
                    await self.rt.bus.dispatch(events.Followed(actor_id=viewer, target_id=tid))
                state = "following"
        await self.rt.graph_changed(viewer)  # rebuilt with the new author on next read
        return await self._result(state, tid)

    async def _insert_follow(self, follower: int, followee: int) -> bool:
        if not await graph_queries.insert_follow(_new_id(), follower, followee):
            return False
        await _bump_pair(follower, followee, 1)
        return True

    async def _result(self, state: str, tid: int) -> schemas.FollowResult:
        row = await graph_queries.user_row(tid)
        return schemas.FollowResult(state=state, user=user_summary(row))  # type: ignore[arg-type]

    async def unfollow(self, viewer: int, username: str) -> schemas.FollowResult:
        tid = (await self.user_row(username, viewer))["id"]
        async with db.transaction():
            await self._remove_follow(viewer, tid)
            await graph_queries.delete_follow_request(viewer, tid)
            await recheck.request(users=[viewer])  # followers-only posts they watched
        await self.rt.graph_changed(viewer)
        return await self._result("none", tid)

    async def _remove_follow(self, follower: int, followee: int) -> None:
        if await graph_queries.delete_follow(follower, followee):
            await _bump_pair(follower, followee, -1)

    async def follow_requests(self, viewer: int, limit: int, cur: str | None) -> schemas.UserPage:
        after = cursor.decode(self.rt.secret_key, "requests", cur)
        rows = await graph_queries.follow_requests_page(viewer, int(after[0]) if after else MAX_ID, limit + 1)
        return self._page(rows, limit, "requests", "rid")

    async def answer_request(self, viewer: int, username: str, accept: bool) -> None:
        rid = (await self.user_row(username, viewer))["id"]
        async with db.transaction():
            if not await graph_queries.delete_follow_request(rid, viewer):
                raise NotFound("no pending request from this user")
            if accept and await self._insert_follow(rid, viewer):
                await self.rt.bus.dispatch(events.FollowAccepted(actor_id=viewer, follower_id=rid))
        if accept:
            await self.rt.graph_changed(rid)

    async def block(self, viewer: int, username: str) -> None:
        tid = (await self.user_row(username, viewer))["id"]
        if tid == viewer:
            raise ValidationFailed("you cannot block yourself")
        async with db.transaction():
            await _lock_pair(viewer, tid)
            await graph_queries.insert_block(_new_id(), viewer, tid)
            # A block removes follows (and pending requests) both ways.
            await self._remove_follow(viewer, tid)
            await self._remove_follow(tid, viewer)
            await graph_queries.delete_follow_requests_between(viewer, tid)
            await recheck.request(users=[viewer, tid], relations=[(viewer, tid, True)])
            await self.rt.bus.dispatch(events.Blocked(actor_id=viewer, target_id=tid))
        await self.rt.graph_changed(viewer)
        await self.rt.graph_changed(tid)

    async def unblock(self, viewer: int, username: str) -> None:
        tid = (await self.user_row(username, viewer))["id"]
        async with db.transaction():
            await _lock_pair(viewer, tid)
            if await graph_queries.delete_block(viewer, tid) and not await graph_queries.blocks(tid, viewer):
                # No block left either way: their events reach each other's sockets again.
                await recheck.request(relations=[(viewer, tid, False)])

    async def mute(self, viewer: int, username: str, on: bool) -> None:
        tid = (await self.user_row(username, viewer))["id"]
        if tid == viewer:
            raise ValidationFailed("you cannot mute yourself")
        if on:
            await graph_queries.insert_mute(_new_id(), viewer, tid)
        else:
            await graph_queries.delete_mute(viewer, tid)

    async def connections(
        self, username: str, viewer: int | None, which: str, limit: int, cur: str | None
    ) -> schemas.UserPage:
        """Followers (``which='followers'``) or followees of ``username``, newest follow first."""
        target = await self.user_row(username, viewer)
        tid = target["id"]
        if target["is_private"] and viewer != tid:
            if not (viewer and await graph_queries.follows(viewer, tid)):
                raise Forbidden("this account is private")
        after = cursor.decode(self.rt.secret_key, which, cur)
        rows = await graph_queries.connections_page(
            tid, which, viewer or 0, int(after[0]) if after else MAX_ID, limit + 1
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
        rows = await graph_queries.search_users(q, _like_prefix(q), viewer or 0, limit + 1, offset)
        more = len(rows) > limit
        nxt = cursor.encode(self.rt.secret_key, "search", [q, offset + limit]) if more else None
        return schemas.UserPage(items=[user_summary(r) for r in rows[:limit]], next_cursor=nxt)


def _like_prefix(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _new_id() -> int:
    from models.ids import new_id

    return new_id()


__all__ = ["GraphService", "is_blocked_either_way"]
