"""In-process broker: one process only (the embedded default, and tests)."""

from __future__ import annotations

import time
from collections import deque

from channels.broker import META_TTL, Broker, History, HistoryPolicy, Publication, new_epoch, recover
from channels.protocol import Position

_MAX_IDEMPOTENT = 100_000
_SWEEP_EVERY = 1.0  # seconds between sweeps of expired streams


class _Stream:
    __slots__ = ("epoch", "expires", "meta_expires", "offset", "pubs")

    def __init__(self, size: int) -> None:
        self.epoch = new_epoch()
        self.offset = 0
        self.pubs: deque[Publication] = deque(maxlen=size)
        self.expires = 0.0
        self.meta_expires = 0.0


class MemoryBroker(Broker):
    """History in a dict of bounded deques; publish is atomic because it never awaits."""

    def __init__(self, history: dict[str, HistoryPolicy] | None = None) -> None:
        super().__init__(history)
        self._streams: dict[str, _Stream] = {}
        self._subscribed: set[str] = set()
        self._idempotent: dict[tuple[str, str], Position] = {}
        self._next_sweep = 0.0

    def _sweep(self, now: float) -> None:
        """Forget streams whose epoch expired: state of channels nobody publishes on does not pile up."""
        self._next_sweep = now + _SWEEP_EVERY
        for name in [n for n, s in self._streams.items() if s.meta_expires <= now]:
            del self._streams[name]

    def _stream(self, channel: str) -> _Stream:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        stream = self._streams.get(channel)
        if stream is not None and stream.meta_expires <= now:
            stream = None  # the whole history, epoch included, is gone: a new epoch begins
        if stream is None:
            stream = self._streams[channel] = _Stream(self.policy(channel).size)
            # A read alone (subscribe, position) keeps the epoch only as long as the channel's history;
            # the first publish extends it to META_TTL.
            stream.meta_expires = now + self.policy(channel).ttl
        elif stream.expires <= now:
            stream.pubs.clear()
        return stream

    async def publish(
        self, channel: str, event: str, data: bytes, *, idempotency_key: str | None = None, actor: int = 0
    ) -> Position:
        if idempotency_key is not None:
            seen = self._idempotent.get((channel, idempotency_key))
            if seen is not None:
                return seen
        stream = self._stream(channel)
        stream.offset += 1
        pub = Publication(stream.offset, stream.epoch, event, data, actor)
        stream.pubs.append(pub)
        now = time.monotonic()
        stream.expires = now + self.policy(channel).ttl
        stream.meta_expires = now + max(META_TTL, self.policy(channel).ttl)
        if channel in self._subscribed:
            self.deliver(channel, pub)
        position = Position(stream.offset, stream.epoch)
        if idempotency_key is not None:
            self._idempotent[(channel, idempotency_key)] = position
            while len(self._idempotent) > _MAX_IDEMPOTENT:
                del self._idempotent[next(iter(self._idempotent))]
        return position

    async def position(self, channel: str) -> Position:
        stream = self._stream(channel)
        return Position(stream.offset, stream.epoch)

    async def history(self, channel: str, since: Position | None) -> History:
        stream = self._stream(channel)
        current = Position(stream.offset, stream.epoch)
        if since is None:
            return History(current, False, [])
        return recover(since, current, [p for p in stream.pubs if p.offset > since.offset])

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    def forget(self, channel: str) -> None:
        """Drop a channel's history and epoch, as a store restarted empty would (for tests)."""
        self._streams.pop(channel, None)
