"""``POST /live/hooks/{event}``: the media server's callbacks, authenticated by ``LIVE_HOOK_SECRET``.

nginx-rtmp cannot add headers to its callbacks, and a secret in the callback URL would end up in logs:
so the shipped nginx config sends them through a loopback-only ``http`` location of the same nginx that
adds ``X-Live-Hook-Secret`` (see deploy/nginx-rtmp and docs/live.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter

from server.deps import settings_of
from server.errors import NotFound, Unauthorized
from server.events import EventBus
from server.live import hooks, replays, signing
from server.live.runtime import LiveRuntime
from server.openapi import problems
from server.security import constant_time_equals
from server.settings import Settings
from server.video.runtime import VideoRuntime

HEADER = "x-live-hook-secret"


def hook_secret_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """404 while ``LIVE_HOOK_SECRET`` is unset; 401 unless the header carries it."""
    secret = settings_of(connection).live.hook_secret
    if secret is None:
        raise NotFound("live ingest hooks are not enabled (LIVE_HOOK_SECRET)")
    given = connection.headers.get(HEADER)
    if not given or not constant_time_equals(given, secret):
        raise Unauthorized("missing or wrong X-Live-Hook-Secret")


class HookController(Controller):
    path = "/live/hooks"
    tags = ["live"]

    @post(
        "/{event:str}",
        guards=[hook_secret_guard],
        status_code=200,
        summary="Media server callback (nginx-rtmp on_publish / on_publish_done / on_record_done, form-encoded; "
        "playback: nginx's auth_request for an HLS file, `name` = stream id, `token`)",
        responses=problems(401, 403, 404, 422),
    )
    async def hook(
        self,
        event: Annotated[str, PathParameter(max_length=32)],
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        video_runtime: NamedDependency[VideoRuntime],
        event_bus: NamedDependency[EventBus],
        live: NamedDependency[LiveRuntime],
    ) -> Response[bytes]:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        secret = settings.security.secret_key
        if event == "playback":
            # nginx's auth_request before it serves an HLS playlist or segment: 200 serves it, 403 refuses
            # (any other answer would be a 500 to the player). The token names its viewer, who must still
            # be allowed to see the stream (asked again at most ACCESS_RECHECK s apart per process; nginx keeps each
            # answer 10 s per token).
            grant = signing.playback_grant(secret, fields.get("name", ""), fields.get("token", ""))
            allowed = grant is not None and await live.may_play(*grant)
            return Response(b"", status_code=200 if allowed else 403)
        call = hooks.parse(event, fields)
        if event == "publish":
            stream_id = await hooks.on_publish(call, event_bus)
            # nginx-rtmp: a 3xx whose Location is an rtmp:// URL pushes the stream there (under the id).
            return Response(b"", status_code=302, headers={"Location": f"{settings.live.relay_url}/{stream_id}"})
        if event == "publish_done":
            await hooks.on_publish_done(call, settings.live)
        else:
            recording = await hooks.on_record_done(call, settings.live)
            if recording is not None:
                stream_id, owner, path = recording
                await replays.make_replay(video_runtime, stream_id, owner, path)
        return Response(b"", status_code=200)
