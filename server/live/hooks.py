"""The media server's callbacks (nginx-rtmp ``on_publish``, ``on_publish_done``, ``on_record_done``).

nginx-rtmp posts them form-encoded: ``call, name, app, addr, clientid, tcurl`` (and ``path`` for a
recording). ``name`` is what the encoder published to: the stream key. An accepted publish is answered
with a redirect to ``{LIVE_RELAY_URL}/{stream id}``: nginx-rtmp pushes the stream to its internal
application under the id, which writes the HLS files and the recording, so the key never appears in a
playback URL or a file name. Its ``on_publish_done`` / ``on_record_done`` callbacks carry the id.
(A plain-name redirect is not enough: nginx-rtmp's HLS module takes the name before the notify module
renames it, so the playlist would still be named after the key.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec
import structlog

from server import db, events, outbox
from server.errors import Forbidden, NotFound, ValidationFailed
from server.live import keys, queries, schemas
from server.params import as_id
from server.realtime import kinds
from server.settings import LiveSettings

log = structlog.get_logger(__name__)

EVENTS = ("publish", "publish_done", "record_done")


class HookCall(msgspec.Struct, kw_only=True):
    """The fields of an nginx-rtmp notify call this app reads (it sends more: they are ignored)."""

    call: str = ""
    name: str = ""
    app: str = ""
    addr: str = ""
    clientid: str = ""
    tcurl: str = ""
    path: str = ""


def parse(event: str, form: dict[str, str]) -> HookCall:
    if event not in EVENTS:
        raise NotFound(f"unknown hook {event!r}; the media server calls {', '.join(EVENTS)}")
    hook = HookCall(**{f: str(form.get(f, "")) for f in HookCall.__struct_fields__})
    if hook.call and hook.call != event:
        raise ValidationFailed(f"call {hook.call!r} sent to the {event!r} hook")
    if not hook.name or len(hook.name) > 200:
        raise ValidationFailed("name (the stream key) is required")
    return hook


def _event(row: Any) -> schemas.StreamEvent:
    # ``playback`` stays null: the room's event reaches every viewer alike, and a playback URL is bound to
    # one viewer (``server.live.signing``); each player asks ``GET /api/v1/live/{id}`` for its own.
    return schemas.StreamEvent(
        id=str(row["id"]),
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        playback=None,
    )


async def on_publish(hook: HookCall, bus: events.EventBus) -> int:
    """Accept a publish by its key: the stream goes live. Returns the stream id to redirect the publish to."""
    async with db.transaction():
        row = await queries.lock_stream_by_key(keys.key_hash(hook.name))
        if row is None:
            raise Forbidden("unknown or rotated stream key")
        if row["status"] == "ended":
            raise Forbidden("this stream has ended; create a new one")
        # live -> live: the encoder reconnected before the media server reported the old connection done.
        was_live = row["status"] == "live"
        updated = await queries.go_live(row["id"], hook.clientid[:64])
        if not was_live:
            await bus.dispatch(
                events.LiveStarted(actor_id=row["owner"], stream_id=row["id"], visibility=row["visibility"])
            )
            await outbox.emit(kinds.live(row["id"]), "live.started", _event(updated))
    log.info("live publish accepted", stream=row["id"], addr=hook.addr)
    return int(row["id"])


async def _by_name(name: str) -> Any:
    """The stream a callback names: its id (after the redirect) or, from older setups, its key."""
    stream_id = as_id(name)
    if stream_id is not None:
        return await queries.lock_stream_state(stream_id=stream_id)
    return await queries.lock_stream_state(key_hash=keys.key_hash(name))


async def on_publish_done(hook: HookCall, settings: LiveSettings) -> None:
    """The publisher stopped: the stream ends (for good; a new broadcast is a new stream)."""
    async with db.transaction():
        row = await _by_name(hook.name)
        if row is None:
            raise NotFound("no such stream")
        if row["status"] != "live":
            return  # already ended (both applications may report the same publish)
        await end(row["id"], settings, ("live",))
    log.info("live publish done", stream=row["id"])


async def end(stream_id: int, settings: LiveSettings, from_status: tuple[str, ...] = ("idle", "live")) -> Any:
    """End a stream for good (``live.ended`` to the room), inside the caller's transaction.

    The publisher stopped, or staff ended it: an ended stream's key is refused from then on. Returns the
    ended row, or None when the stream was not in ``from_status``.
    """
    updated = await queries.end_stream(stream_id, list(from_status))
    if updated is not None:
        await outbox.emit(kinds.live(stream_id), "live.ended", _event(updated))
    return updated


async def drop_publisher(settings: LiveSettings, client_id: str) -> int | None:
    """Ask nginx-rtmp's control API (``LIVE_CONTROL_URL``) to cut the publisher connection ``client_id``
    (the ``clientid`` its ``on_publish`` sent). How many it dropped; ``None`` if it could not be asked."""
    if settings.control_url is None or settings.hook_secret is None or not client_id.isdigit():
        return None
    try:
        async with httpx.AsyncClient(timeout=5.0) as http:
            res = await http.get(
                f"{settings.control_url}/drop/publisher",
                params={"clientid": client_id},
                headers={"X-Live-Hook-Secret": settings.hook_secret},
            )
        res.raise_for_status()
        return int(res.text.strip() or 0)
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("live_publisher_drop_failed", client_id=client_id, error=str(exc))
        return None


def recording_path(hook: HookCall, settings: LiveSettings) -> Path:
    """The recorded file, only if it lies inside the configured recordings directory."""
    if settings.recordings_dir is None:
        raise NotFound("recordings are not configured (LIVE_RECORDINGS_DIR)")
    root = Path(settings.recordings_dir).resolve()
    path = Path(hook.path).resolve()
    if not hook.path or root not in path.parents or not path.is_file():
        raise ValidationFailed("path is not a recording in LIVE_RECORDINGS_DIR")
    return path


async def on_record_done(hook: HookCall, settings: LiveSettings) -> tuple[int, int, Path] | None:
    """A recording was closed: ``(stream id, owner, file)`` to turn into the replay, or ``None`` if already done."""
    path = recording_path(hook, settings)
    row = await _by_name(hook.name)
    if row is None:
        raise NotFound("no such stream")
    owner = await queries.replay_source(row["id"])
    assert owner is not None
    if owner["replay_video"] is not None:
        return None
    return int(row["id"]), int(owner["owner"]), path
