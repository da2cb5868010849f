"""The live room on ``live:{id}``: who may subscribe, and what viewers' publishes become.

- ``chat.message {text}``: 1..500 characters; refused (``forbidden``) to those who cannot see the stream,
  are blocked by or block its owner, are banned or timed out, or once it ended; ``rate_limited`` past the
  per-user chat limit or inside the room's slow mode. Kept in the database and sent through the outbox,
  so history and the room agree.
- ``reaction {kind}``: a closed set of kinds, summed and sent as ``reactions {counts}`` (see runtime).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import msgspec

from channels.gateway import Outgoing, PublishRefused
from channels.protocol import BAD_REQUEST, FORBIDDEN, RATE_LIMITED
from models.ids import new_id
from server.errors import RateLimited
from server.guards import has_role
from server.live import queries, schemas
from server.live.runtime import LiveRuntime
from server.params import as_id
from server.realtime import kinds

_CHAT = msgspec.json.Decoder(schemas.ChatIn)
_REACTION = msgspec.json.Decoder(schemas.ReactionIn)


def _stream_id(arg: str) -> int:
    stream_id = as_id(arg)
    if stream_id is None:
        raise PublishRefused(FORBIDDEN, "no such stream")
    return stream_id


class Room:
    def __init__(self, runtime: LiveRuntime) -> None:
        self.rt = runtime

    async def may_subscribe(self, user_id: int, arg: str) -> bool:
        """``live:{id}``: whoever may see the stream (visibility and blocks)."""
        try:
            stream_id = _stream_id(arg)
        except PublishRefused:
            return False
        return await queries.can_see(user_id, stream_id)

    async def publish(self, user_id: int, arg: str, event: str, data: bytes) -> Outgoing | None:
        """The room's rules first (a room one may not post in says so whatever was sent), then the payload."""
        stream_id = _stream_id(arg)
        if event == "chat.message":
            row = await self._state(user_id, stream_id)
            try:
                text = _CHAT.decode(data).text
            except msgspec.DecodeError as exc:
                raise PublishRefused(BAD_REQUEST, f"chat.message takes {{text}}: {exc}") from None
            await self.chat(user_id, stream_id, row, text)
            return None
        if event == "reaction":
            if not self.rt.reaction_access.get(stream_id, user_id):
                asked_at = time.monotonic()
                await self._state(user_id, stream_id)  # refuses (and caches nothing) when not allowed
                self.rt.reaction_access.put(stream_id, user_id, True, asked_at)
            try:
                kind = _REACTION.decode(data).kind
            except msgspec.DecodeError as exc:
                raise PublishRefused(BAD_REQUEST, f"reaction takes {{kind}}: {exc}") from None
            if kind not in schemas.REACTION_KINDS:
                raise PublishRefused(BAD_REQUEST, f"reaction kind must be one of {', '.join(schemas.REACTION_KINDS)}")
            self.rt.add_reaction(stream_id, kind)
            return None
        raise PublishRefused(FORBIDDEN, "clients may publish chat.message and reaction here")

    async def _state(self, user_id: int, stream_id: int) -> Any:
        """The room's state for ``user_id``, refusing what the room's rules forbid."""
        row = await queries.room_state(user_id, stream_id)
        if row is None or not row["visible"]:
            raise PublishRefused(FORBIDDEN, "no such stream")
        if row["status"] == "ended":
            raise PublishRefused(FORBIDDEN, "the stream has ended")
        if row["banned"]:
            raise PublishRefused(FORBIDDEN, "you are banned from this room")
        return row

    async def chat(self, user_id: int, stream_id: int, row: Any, text: str) -> None:
        """Store and send a chat line by ``user_id``, whose room state is ``row``."""
        if not text.strip():
            raise PublishRefused(BAD_REQUEST, "chat text is empty")
        if len(text) > schemas.MAX_CHAT:
            raise PublishRefused(BAD_REQUEST, f"chat text is over {schemas.MAX_CHAT} characters")
        try:
            await self.rt.limiter.hit(f"chat:{stream_id}:{user_id}", self.rt.settings.chat_limit)
        except RateLimited as exc:
            raise PublishRefused(RATE_LIMITED, f"too many chat messages; retry in {exc.retry_after} s") from None
        moderator = row["owner"] == user_id or has_role(row["role"], "moderator")
        slow = row["slow_mode_seconds"]
        if slow and not moderator and not await self.rt.counters.slow_mode_allows(stream_id, user_id, slow):
            raise PublishRefused(RATE_LIMITED, f"slow mode: one message every {slow} s")
        message_id, now = new_id(), dt.datetime.now(dt.UTC)
        message = schemas.ChatMessage(str(message_id), "chat", schemas.chat_user(row), text, now)
        channel = kinds.live(stream_id)
        await queries.insert_chat(message_id, stream_id, user_id, text, now, channel, msgspec.json.encode(message))
