"""Local fan-out: this process's sockets per channel, fed once per publication by the broker.

Each publication is encoded once, to the websocket frame's bytes (server frames are unmasked, so the same
bytes suit every socket), then appended to every subscriber's bounded queue.
A publication with an ``actor`` is withheld from subscribers whose ``hidden`` set holds that user (a block
either way, kept per socket by the gateway): they get a ``hidden`` placeholder at the same offset instead,
framed once per publication too, so every subscriber still sees offsets rise by one with no gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Set
from typing import Protocol

from channels.broker import Broker, Publication
from channels.protocol import CLOSE_SLOW, event_frame

HIDDEN = "hidden"
"""The event a subscriber gets in place of one whose actor it is in a block relation with (data ``{}``)."""
NOBODY: frozenset[int] = frozenset()


def veil(channel: str, pub: Publication) -> bytes:
    """The ``hidden`` placeholder frame for ``pub``: its offset and epoch, nothing of its content."""
    return event_frame(channel, pub.offset, pub.epoch, HIDDEN, b"{}")


class Sink(Protocol):
    """A socket's send side: ``push`` must not await, and must not change any hub synchronously.

    ``frame`` is a whole websocket text frame (``protocol.frame_text``), shared by every sink.
    """

    def push(self, frame: bytes) -> None: ...


class Sub:
    """One socket's subscription to one channel; buffers live events while its subscribe is answered."""

    __slots__ = ("channel", "epoch", "hidden", "offset", "pending", "sink")

    def __init__(self, sink: Sink, channel: str, hidden: Set[int] = NOBODY) -> None:
        self.sink = sink
        self.channel = channel
        self.hidden = hidden
        """Users whose publications this subscriber gets only as ``hidden`` (a live view: the gateway
        updates the set in place when a block starts or ends)."""
        self.offset = 0
        self.epoch = ""
        self.pending: list[tuple[Publication, bytes]] | None = []

    def settle(self, offset: int, epoch: str) -> None:
        """The subscribe reply covered up to ``offset``: send the buffered events after it, go live."""
        self.offset, self.epoch = offset, epoch
        pending, self.pending = self.pending or [], None
        for pub, frame in pending:
            if pub.epoch != self.epoch or pub.offset > self.offset:
                self.offset, self.epoch = pub.offset, pub.epoch
                self.sink.push(veil(self.channel, pub) if pub.actor in self.hidden else frame)


class _Local:
    __slots__ = ("ready", "subs")

    def __init__(self, ready: asyncio.Future[None]) -> None:
        self.subs: dict[Sub, None] = {}
        self.ready = ready


class Hub:
    """Subscribes the broker to a channel while at least one local socket wants it."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._locals: dict[str, _Local] = {}
        self.delivered = 0
        """Events queued to local sockets by live fan-out so far (read by the metrics sampler)."""
        broker.attach(self._deliver)

    def count(self, channel: str) -> int:
        local = self._locals.get(channel)
        return len(local.subs) if local else 0

    async def add(self, sub: Sub) -> None:
        """Register ``sub``; returns once the broker delivers its channel here (or raises its error)."""
        local = self._locals.get(sub.channel)
        if local is None:
            ready = asyncio.get_running_loop().create_future()
            local = self._locals[sub.channel] = _Local(ready)
            local.subs[sub] = None
            try:
                await self.broker.subscribe(sub.channel)
            except BaseException as exc:
                ready.set_exception(exc)
                ready.exception()  # retrieved: later waiters re-raise it themselves
                self._locals.pop(sub.channel, None)
                raise
            ready.set_result(None)
            return
        local.subs[sub] = None
        try:
            await asyncio.shield(local.ready)
        except BaseException:
            local.subs.pop(sub, None)
            raise

    async def remove(self, sub: Sub) -> None:
        local = self._locals.get(sub.channel)
        if local is None or local.subs.pop(sub, 0) == 0:
            return
        if not local.subs and local.ready.done():
            del self._locals[sub.channel]
            await self.broker.unsubscribe(sub.channel)

    def _deliver(self, channel: str, pub: Publication) -> None:
        local = self._locals.get(channel)
        if local is None:
            return
        frame = event_frame(channel, pub.offset, pub.epoch, pub.event, pub.data)
        actor = pub.actor
        veiled: bytes | None = None
        pushed = 0
        for sub in local.subs:
            if sub.pending is not None:
                sub.pending.append((pub, frame))
            elif pub.offset > sub.offset or pub.epoch != sub.epoch:
                sub.offset = pub.offset
                sub.epoch = pub.epoch
                if actor and actor in sub.hidden:  # the per-socket block predicate: a set lookup
                    if veiled is None:
                        veiled = veil(channel, pub)
                    sub.sink.push(veiled)
                else:
                    sub.sink.push(frame)
                pushed += 1
        self.delivered += pushed


class Flushable(Protocol):
    """Whoever sends a ``SendQueue``'s contents and closes its socket (the gateway's connection)."""

    def flush(self) -> None: ...

    def kill(self, code: int) -> None: ...


class SendQueue:
    """A socket's bounded send queue of frames (by count and by bytes); overflow closes it with 4008.

    (Not to be confused with the transactional outbox of ``server.outbox``: this one is per socket, in memory.)

    It needs no task or future of its own while idle: when the queue turns non-empty it calls
    ``ready(self)`` once, and whoever drains it (the gateway's flusher) clears ``scheduled`` when done.
    Idle, it is small: ``queue`` is a list (an empty list holds no item array; an empty ``deque`` keeps a
    528-byte block, two after a ``clear()``), and ``ready`` is one callable shared by the gateway's queues.
    """

    __slots__ = ("_max_chars", "_max_count", "_ready", "chars", "conn", "queue", "scheduled")

    def __init__(
        self,
        max_count: int,
        max_chars: int,
        conn: Flushable,
        ready: Callable[[SendQueue], None],
    ) -> None:
        self.queue: list[bytes] = []
        self.chars = 0
        self._max_count = max_count
        self._max_chars = max_chars
        self._ready = ready
        self.scheduled = False
        self.conn = conn

    def push(self, frame: bytes) -> None:
        queue = self.queue
        queue.append(frame)
        self.chars += len(frame)
        if len(queue) > self._max_count or self.chars > self._max_chars:
            queue.clear()
            self.chars = 0
            self.conn.kill(CLOSE_SLOW)
            return
        if not self.scheduled:
            self.scheduled = True
            self._ready(self)
