"""An AsyncAPI 3.0 document for websocket protocol v1, generated from the msgspec frame types."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

import msgspec
from litestar import Controller, get

from channels import protocol

_CLIENT = get_args(protocol.ClientFrame)
_SERVER = get_args(protocol.ServerFrame)


@cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document (JSON-ready dict)."""
    types = (*_CLIENT, *_SERVER)
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")

    def message_name(t: type) -> str:
        return "c_" + t.__name__ if t in _CLIENT else "s_" + t.__name__

    messages = {
        message_name(t): {
            "name": t.__struct_config__.tag,  # type: ignore[attr-defined]
            "title": t.__name__,
            "summary": (t.__doc__ or "").strip().splitlines()[0] if t.__doc__ else t.__name__,
            "contentType": "application/json",
            "payload": schema,
        }
        for t, schema in zip(types, schemas, strict=True)
    }
    channel_messages = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Social Flow realtime",
            "version": "1",
            "description": (
                "Websocket protocol v1: JSON text frames tagged by `type`. Authenticate first (auth frame or "
                "Authorization header), subscribe with an optional `since` position to resume. Close codes: "
                "4001 unauthorized or auth timeout, 4003 origin refused, 4008 slow consumer, 4009 session "
                "revoked, 4029 rate limited, 1009 frame too large, 1001 server going away."
            ),
        },
        "servers": {"default": {"host": "localhost:8000", "protocol": "ws", "pathname": "/api/v1/ws"}},
        "channels": {
            "ws": {
                "address": "/api/v1/ws",
                "description": "One socket carries every subscription (user, timeline, hashtag, post, live).",
                "messages": channel_messages,
            }
        },
        "operations": {
            "sendCommand": {
                "action": "receive",
                "channel": {"$ref": "#/channels/ws"},
                "summary": "Commands a client sends",
                "messages": [{"$ref": f"#/channels/ws/messages/{message_name(t)}"} for t in _CLIENT],
            },
            "receiveFrame": {
                "action": "send",
                "channel": {"$ref": "#/channels/ws"},
                "summary": "Replies and events the server sends",
                "messages": [{"$ref": f"#/channels/ws/messages/{message_name(t)}"} for t in _SERVER],
            },
        },
        "components": {"schemas": components, "messages": messages},
    }


class AsyncAPIController(Controller):
    path = "/schema"
    include_in_schema = False

    @get("/asyncapi.json", summary="AsyncAPI 3.0 document of the websocket protocol")
    async def asyncapi(self) -> dict[str, Any]:
        return document()
