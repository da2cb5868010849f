"""Room moderation for the stream's owner and moderators: bans and time-outs, chat deletion."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.params import JSONBody

from server.deps import AuthUser
from server.live import schemas
from server.live.deps import MessageId, StreamId, Streams, Username
from server.openapi import problems
from server.ratelimit import write_limit


class ModerationController(Controller):
    path = "/live/{stream_id:str}"
    tags = ["live"]

    @post(
        "/bans",
        status_code=201,
        summary="Ban a user from the room's chat (a time-out with `seconds`)",
        responses=problems(401, 403, 404, 422, 429),
        guards=[write_limit("moderation")],
    )
    async def ban(
        self, stream_id: StreamId, data: JSONBody[schemas.BanCreate], current_user: AuthUser, streams: Streams
    ) -> schemas.Ban:
        return await streams.ban(current_user, stream_id, data)

    @delete(
        "/bans/{username:str}",
        status_code=204,
        summary="Lift a ban",
        responses=problems(401, 403, 404, 429),
        guards=[write_limit("moderation")],
    )
    async def unban(self, stream_id: StreamId, username: Username, current_user: AuthUser, streams: Streams) -> None:
        await streams.unban(current_user, stream_id, username)

    @delete(
        "/chat/{message_id:str}",
        status_code=204,
        summary="Delete a chat message (viewers get `chat.deleted`)",
        responses=problems(401, 403, 404, 429),
        guards=[write_limit("moderation")],
    )
    async def delete_chat(
        self,
        stream_id: StreamId,
        message_id: MessageId,
        current_user: AuthUser,
        streams: Streams,
    ) -> None:
        await streams.delete_chat(current_user, stream_id, message_id)
