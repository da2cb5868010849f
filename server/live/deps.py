"""DI providers of the live controllers (the room's channel policy is registered by ``server.runtime``)."""

from __future__ import annotations

from typing import Annotated

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import PathParameter

from server.live.runtime import LiveRuntime
from server.live.services import StreamService

StreamId = Annotated[str, PathParameter(max_length=20, description="a stream id (string)")]
MessageId = Annotated[str, PathParameter(max_length=20, description="a chat message id (string)")]
Username = Annotated[str, PathParameter(max_length=30, description="a username")]
Streams = NamedDependency[StreamService]


def _streams(state: State) -> StreamService:
    return StreamService(state["live"])


def _live(state: State) -> LiveRuntime:
    return state["live"]  # type: ignore[no-any-return]


dependencies = {
    "streams": Provide(_streams, sync_to_thread=False),
    "live": Provide(_live, sync_to_thread=False),
}
