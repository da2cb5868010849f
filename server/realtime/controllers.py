"""The server publish API and the websocket route."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from litestar import Controller, WebSocket, post, websocket
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody

from channels import names
from channels.broker import BrokerUnavailable
from channels.gateway import Socket
from server.deps import settings_of
from server.errors import NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from server.openapi import problems
from server.realtime import kinds
from server.realtime.deps import BrokerDep, GatewayDep
from server.security import constant_time_equals


class PublishRequest(msgspec.Struct, forbid_unknown_fields=True):
    channel: str
    event: str
    data: Any = None


class PublishResult(msgspec.Struct):
    """Where the event landed in the channel's stream."""

    offset: int
    epoch: str


def api_key_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """404 while ``REALTIME_API_KEY`` is unset; 401 unless ``X-API-Key`` matches it."""
    key = settings_of(connection).realtime.api_key
    if key is None:
        raise NotFound("the realtime publish API is not enabled")
    given = connection.headers.get("x-api-key")
    if not given or not constant_time_equals(given, key):
        raise Unauthorized("missing or wrong X-API-Key")


class RealtimeController(Controller):
    path = "/realtime"
    tags = ["realtime"]

    @post(
        "/publish",
        status_code=200,
        guards=[api_key_guard],
        summary="Publish an event to a channel (trusted backends, X-API-Key)",
        responses=problems(401, 404, 422, 503),
        security=[{"ApiKey": []}],
    )
    async def publish(self, data: JSONBody[PublishRequest], broker: BrokerDep) -> PublishResult:
        try:
            kinds.VOCABULARY.parse(data.channel)
        except names.InvalidChannel as exc:
            raise ValidationFailed(str(exc)) from None
        if not names.valid_event(data.event):
            raise ValidationFailed("event must be dotted lower-case words, at most 64 characters")
        try:
            position = await broker.publish(data.channel, data.event, msgspec.json.encode(data.data))
        except BrokerUnavailable as exc:
            raise ServiceUnavailable("the realtime store is unavailable") from exc
        return PublishResult(position.offset, position.epoch)


@websocket("/ws", summary="Websocket protocol v1 (see /schema/asyncapi.json)")
async def ws_endpoint(socket: WebSocket[Any, Any, Any], gateway: GatewayDep) -> None:
    # Litestar's WebSocket has every member of channels' Socket protocol; only receive/send differ in typing.
    await gateway.serve(cast("Socket", socket))
