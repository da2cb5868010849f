"""Streams: create, read, list the live ones, edit, rotate the key, chat history, HLS heartbeats."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import JSONBody

from server.deps import AuthUser, MaybeUser
from server.guards import requires_creator
from server.live import schemas
from server.live.deps import StreamId, Streams
from server.openapi import problems
from server.params import Cursor, Limit
from server.ratelimit import write_limit


class StreamController(Controller):
    path = "/live"
    tags = ["live"]

    @post(
        "/",
        status_code=201,
        summary="Create a stream (creator or admin); the answer holds the stream key",
        guards=[requires_creator, write_limit("posts")],
        responses=problems(401, 403, 422, 429),
    )
    async def create(
        self, data: JSONBody[schemas.StreamCreate], current_user: AuthUser, streams: Streams
    ) -> schemas.Stream:
        return await streams.create(current_user, data)

    @get("/", summary="Streams live now that the caller may see", responses=problems(422))
    async def live_now(
        self, maybe_user: MaybeUser, streams: Streams, limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.StreamPage:
        return await streams.live_now(maybe_user.id if maybe_user else None, limit, cursor)

    @get("/{stream_id:str}", summary="A stream (its HLS URL while live)", responses=problems(404))
    async def read(self, stream_id: StreamId, maybe_user: MaybeUser, streams: Streams) -> schemas.Stream:
        return await streams.get(maybe_user.id if maybe_user else None, stream_id)

    @patch(
        "/{stream_id:str}",
        summary="Edit my stream: title, slow mode",
        responses=problems(401, 403, 404, 422, 429),
        guards=[write_limit("edits")],
    )
    async def update(
        self, stream_id: StreamId, data: JSONBody[schemas.StreamUpdate], current_user: AuthUser, streams: Streams
    ) -> schemas.Stream:
        return await streams.update(current_user, stream_id, data)

    @post(
        "/{stream_id:str}/key",
        status_code=200,
        summary="A new stream key; the old one is refused from now on",
        responses=problems(401, 403, 404, 429),
        guards=[write_limit("edits")],
    )
    async def rotate_key(self, stream_id: StreamId, current_user: AuthUser, streams: Streams) -> schemas.Ingest:
        return await streams.rotate_key(current_user, stream_id)

    @get("/{stream_id:str}/chat", summary="The room's chat and tips, newest first", responses=problems(404, 422))
    async def chat(
        self, stream_id: StreamId, maybe_user: MaybeUser, streams: Streams, limit: Limit = 50, cursor: Cursor = None
    ) -> schemas.ChatPage:
        return await streams.chat(maybe_user.id if maybe_user else None, stream_id, limit, cursor)

    @post(
        "/{stream_id:str}/heartbeat",
        status_code=204,
        summary="An HLS player is watching (every ~10 s)",
        responses=problems(404, 409, 422),
    )
    async def heartbeat(
        self, stream_id: StreamId, data: JSONBody[schemas.Heartbeat], maybe_user: MaybeUser, streams: Streams
    ) -> None:
        await streams.heartbeat(maybe_user.id if maybe_user else None, stream_id, data)
