"""Re-authorization of live subscriptions when access may have been lost (block, privacy, role, suspension).

A service calls ``await request(users=..., kinds=...)`` inside the transaction that changes access; the
request travels through the outbox (so it is acted on only once committed) on the internal channel
``names.RECHECK`` to every node, whose gateway asks the subscribe policy again and ends the subscriptions
no longer allowed with ``{"type": "unsubscribed", "channel": …, "reason": "forbidden"}``.

A block or an unblock also says which pair of users entered or left a block relation (``relations``): each
gateway updates those users' per-socket block sets as the event is delivered, before any later event,
so a chat line or comment published after the block never reaches the other user's sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import structlog

from channels import names, protocol
from channels.broker import Broker
from channels.gateway import Gateway
from server import outbox
from server.video.signing import AccessChanges

log = structlog.get_logger(__name__)


class Recheck(msgspec.Struct):
    users: list[int] = []
    """Every subscription of these users is checked again."""
    kinds: list[str] = []
    """Every subscription of these channel kinds (anyone's) is checked again."""
    relations: list[tuple[int, int, bool]] = []
    """``(a, b, True)``: a and b are now in a block relation (either way); ``False``: no longer."""
    videos: list[int] = []
    """These videos changed (visibility, price, moderation, deletion): every node forgets their cached access."""


_EVENT = msgspec.json.Decoder(dict[str, Any])


async def request(
    users: Iterable[int] = (),
    kinds: Iterable[str] = (),
    relations: Iterable[tuple[int, int, bool]] = (),
    videos: Iterable[int] = (),
) -> None:
    """Queue a re-check (and block-relation changes, changed videos) in the caller's transaction."""
    await outbox.emit(
        names.RECHECK,
        "recheck",
        Recheck(
            users=sorted(set(users)), kinds=sorted(set(kinds)), relations=list(relations), videos=sorted(set(videos))
        ),
    )


class RecheckSink:
    """The hub's subscriber on ``names.RECHECK`` for one gateway: each event schedules ``gateway.recheck``.

    After an outage the broker replays what this process missed channel by channel, this one first
    (``Broker.replay_order``), not in publication order. So while it replays, a new block is applied at
    once (the replayed chat lines that follow are then hidden, and so are any sent before the block: the
    safe side), and an unblock only once the replay ended (a line sent while the block held stays hidden).
    """

    def __init__(
        self,
        gateway: Gateway,
        broker: Broker,
        access_changes: AccessChanges | None = None,
        forget_video: Callable[[int], None] | None = None,
    ) -> None:
        self.gateway = gateway
        self.broker = broker
        self.forget_video = forget_video
        # The process's signed-URL access caches (videos, images, live playback) forget what a re-check
        # outdates: this is how a change made on another node reaches them (``AccessChanges``).
        self.access_changes = access_changes
        self.tasks: set[asyncio.Task[int]] = set()
        self._unblocks: list[tuple[int, int, bool]] = []
        broker.on_replayed(self._replayed)

    def _replayed(self) -> None:
        unblocks, self._unblocks = self._unblocks, []
        if unblocks:
            self.gateway.relations_changed(unblocks)

    def push(self, frame: bytes) -> None:
        try:
            data = msgspec.convert(_EVENT.decode(protocol.frame_payload(frame))["data"], Recheck)
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError):
            log.warning("bad recheck event")
            return
        if self.access_changes is not None:
            if data.kinds:  # anyone's subscriptions of a kind: anyone's cached access
                self.access_changes.note_all()
            else:
                self.access_changes.note([*data.users, *(u for a, b, on in data.relations if on for u in (a, b))])
        if self.forget_video is not None:
            for video_id in data.videos:
                self.forget_video(video_id)
        if data.relations:
            if self.broker.replaying:
                self._unblocks.extend(r for r in data.relations if not r[2])
                self.gateway.relations_changed(r for r in data.relations if r[2])
            else:
                self.gateway.relations_changed(data.relations)
        if not (data.users or data.kinds):
            return
        users, kinds = set(data.users) or None, set(data.kinds) or None
        task = asyncio.get_running_loop().create_task(self.gateway.recheck(users, kinds))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
