"""Streams: create, read, list, rotate the key, edit, moderate (bans, chat deletion), chat history, heartbeats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from models.accounts import User
from models.ids import new_id
from models.live import LiveBan, LiveChatMessage, LiveStream
from server import cursor as cursor_codec
from server import db, outbox
from server.deps import CurrentUser
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.guards import has_role
from server.live import hooks, keys, queries, schemas
from server.live.runtime import LiveRuntime
from server.params import parse_id
from server.realtime import kinds, recheck


class StreamService:
    def __init__(self, runtime: LiveRuntime) -> None:
        self.rt = runtime
        self.settings = runtime.settings

    async def _visible(self, viewer: int, stream_id: int) -> Any:
        row = await queries.visible_stream(viewer, stream_id)
        if row is None:
            raise NotFound("no such stream")
        return row

    async def _moderated(self, user: CurrentUser, raw_id: str) -> tuple[int, int]:
        """``(stream id, owner)`` of a stream ``user`` may moderate (owner or staff); 404 / 403 otherwise."""
        stream_id = parse_id(raw_id)
        row = await queries.visible_stream(user.id, stream_id)
        if row is None:
            raise NotFound("no such stream")
        if row["owner"] != user.id and not has_role(user, "moderator"):
            raise Forbidden("only the stream's owner and moderators moderate its room")
        return stream_id, row["owner"]

    async def create(self, user: CurrentUser, data: schemas.StreamCreate) -> schemas.Stream:
        key, stream_id = keys.new_key(), new_id()
        await LiveStream.insert(
            LiveStream(
                id=stream_id, owner=user.id, title=data.title, visibility=data.visibility, key_hash=keys.key_hash(key)
            )
        )
        return schemas.stream(await self._visible(user.id, stream_id), self.settings, self.rt.secret_key, user.id, key)

    async def get(self, viewer: int | None, raw_id: str) -> schemas.Stream:
        return schemas.stream(
            await self._visible(viewer or 0, parse_id(raw_id)), self.settings, self.rt.secret_key, viewer or 0
        )

    async def live_now(self, viewer: int | None, limit: int, cursor: str | None) -> schemas.StreamPage:
        rows = await queries.live_streams(
            viewer or 0, cursor_codec.decode_id(self.rt.secret_key, "live", cursor or None), limit + 1
        )
        items = [schemas.stream(r, self.settings, self.rt.secret_key, viewer or 0) for r in rows[:limit]]
        return schemas.StreamPage(
            items, cursor_codec.next_id(self.rt.secret_key, "live", [r["id"] for r in rows], limit)
        )

    async def rotate_key(self, user: CurrentUser, raw_id: str) -> schemas.Ingest:
        """A new key; the old one is refused from now on, and a publisher live on it is cut (through the
        media server's control API, ``LIVE_CONTROL_URL``): the broadcast ends as if it had stopped."""
        stream_id = parse_id(raw_id)
        row = await self._visible(user.id, stream_id)
        if row["owner"] != user.id:
            raise Forbidden("only the owner has the stream key")
        key = keys.new_key()
        rows = await (
            LiveStream.update({LiveStream.key_hash: keys.key_hash(key)})
            .where(LiveStream.id == stream_id)
            .returning(LiveStream.status, LiveStream.client_id)
        )
        if rows and rows[0]["status"] == "live" and rows[0]["client_id"]:
            await hooks.drop_publisher(self.settings, rows[0]["client_id"])
        return schemas.Ingest(self.settings.rtmp_url, key)

    async def update(self, user: CurrentUser, raw_id: str, data: schemas.StreamUpdate) -> schemas.Stream:
        stream_id = parse_id(raw_id)
        row = await self._visible(user.id, stream_id)
        if row["owner"] != user.id:
            raise Forbidden("only the owner edits the stream")
        if data.title is not msgspec.UNSET:
            await LiveStream.update({LiveStream.title: data.title}).where(LiveStream.id == stream_id)
        if data.slow_mode_seconds is not msgspec.UNSET:
            await LiveStream.update({LiveStream.slow_mode_seconds: data.slow_mode_seconds}).where(
                LiveStream.id == stream_id
            )
        return schemas.stream(await self._visible(user.id, stream_id), self.settings, self.rt.secret_key, user.id)

    async def ban(self, user: CurrentUser, raw_id: str, data: schemas.BanCreate) -> schemas.Ban:
        """Ban (or, with ``seconds``, time out) a user from the room's chat and reactions."""
        stream_id, owner = await self._moderated(user, raw_id)
        target = (
            await User.select(User.id, User.username, User.display_name, User.avatar_url, User.role)
            .where(User.username == data.username.lower())
            .first()
        )
        if target is None:
            raise NotFound("no such user")
        if target["id"] == owner or has_role(target["role"], "moderator"):
            raise ValidationFailed("the owner and moderators cannot be banned from a room")
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=data.seconds) if data.seconds else None
        async with db.transaction():
            await LiveBan.delete().where((LiveBan.stream == stream_id) & (LiveBan.user == target["id"]))
            rows = await LiveBan.insert(
                LiveBan(id=new_id(), stream=stream_id, user=target["id"], until=until, created_by=user.id)
            ).returning(LiveBan.until, LiveBan.created_at)
            await recheck.request(users=[target["id"]])  # other nodes' cached permissions for them (AccessChanges)
        row = rows[0]
        self.rt.banned(target["id"])
        person = schemas.ChatUser(str(target["id"]), target["username"], target["display_name"], target["avatar_url"])
        return schemas.Ban(user=person, until=row["until"], created_at=row["created_at"])

    async def unban(self, user: CurrentUser, raw_id: str, username: str) -> None:
        stream_id, _ = await self._moderated(user, raw_id)
        target = await User.select(User.id).where(User.username == username.lower()).first()
        if target is not None:
            await LiveBan.delete().where((LiveBan.stream == stream_id) & (LiveBan.user == target["id"]))

    async def delete_chat(self, user: CurrentUser, raw_id: str, raw_message: str) -> None:
        """Remove a chat line: gone from the history, and every viewer gets ``chat.deleted``."""
        stream_id, _ = await self._moderated(user, raw_id)
        message_id = parse_id(raw_message)
        async with db.transaction():
            deleted = await (
                LiveChatMessage.update(
                    {LiveChatMessage.deleted_at: dt.datetime.now(dt.UTC), LiveChatMessage.deleted_by: user.id}
                )
                .where(
                    (LiveChatMessage.id == message_id)
                    & (LiveChatMessage.stream == stream_id)
                    & (LiveChatMessage.kind == "chat")
                    & LiveChatMessage.deleted_at.is_null()
                )
                .returning(LiveChatMessage.id)
            )
            if not deleted:
                raise NotFound("no such chat message")
            await outbox.emit(kinds.live(stream_id), "chat.deleted", schemas.Deleted(str(message_id)))

    async def chat(self, viewer: int | None, raw_id: str, limit: int, cursor: str | None) -> schemas.ChatPage:
        """The room's chat and tips, newest first: what the channel's history no longer holds."""
        stream_id = parse_id(raw_id)
        await self._visible(viewer or 0, stream_id)
        after = cursor_codec.decode_id(self.rt.secret_key, f"chat:{stream_id}", cursor or None)
        rows = await queries.chat_page(viewer or 0, stream_id, after, limit + 1)
        items = [schemas.chat_message(r) for r in rows[:limit]]
        return schemas.ChatPage(
            items, cursor_codec.next_id(self.rt.secret_key, f"chat:{stream_id}", [r["id"] for r in rows], limit)
        )

    async def heartbeat(self, viewer: int | None, raw_id: str, data: schemas.Heartbeat) -> None:
        """An HLS player without a socket counts as a viewer while its heartbeats keep coming."""
        stream_id = parse_id(raw_id)
        row = await self._visible(viewer or 0, stream_id)
        if row["status"] != "live":
            raise Conflict("the stream is not live")
        member = f"u:{viewer}" if viewer else f"s:{data.session_id}"
        await self.rt.counters.heartbeat(stream_id, member, self.settings.heartbeat_ttl)
