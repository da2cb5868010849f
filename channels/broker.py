"""The Broker interface: channel history with offsets, and fan-out of publications to this process.

Guarantees every implementation keeps (after centrifuge's ``broker.go``):

- ``publish`` appends to the channel's history and publishes in one atomic step, so per channel the
  offsets rise by one with no gaps and subscribers see publications in offset order.
- A channel's ``epoch`` names one continuous history. It changes only when that history was lost
  (expired, flushed, the store restarted empty); within an epoch an offset never means two publications.
- ``history(channel, since)`` returns every publication after ``since`` in order with ``recovered=True``,
  or ``recovered=False`` (and no publications) when it can no longer prove that: epoch changed, or the
  oldest retained publication is past ``since``.
- History is bounded by size and by TTL per channel kind (``HistoryPolicy``).
- This process receives each publication on a channel once, however many local sockets want it:
  ``subscribe``/``unsubscribe`` are per process, and the callback registered with ``attach`` (by the
  hub) is called in offset order per channel, without awaiting.
"""

from __future__ import annotations

import abc
import secrets
from collections.abc import Callable, Iterable

import msgspec

from channels import names
from channels.protocol import Position


class Publication(msgspec.Struct, frozen=True, array_like=True):
    """One event in a channel's history; ``data`` is its JSON, encoded once by the publisher."""

    offset: int
    epoch: str
    event: str
    data: bytes
    actor: int = 0
    """The user whose action the event is (a chat line's author), or 0. Never sent: the gateway withholds
    the event from sockets whose user is in a block relation with the actor (``channels.hub``)."""


class History(msgspec.Struct, frozen=True):
    """The channel's current position and, when recoverable, the publications after ``since``."""

    position: Position
    recovered: bool
    publications: list[Publication]


class HistoryPolicy(msgspec.Struct, frozen=True):
    """How much history a channel kind keeps: at most ``size`` publications, for ``ttl`` seconds."""

    size: int
    ttl: int


FALLBACK_HISTORY = HistoryPolicy(100, 600)
# The epoch outlives the history it names, so an idle channel keeps its epoch after its events expire.
META_TTL = 7 * 24 * 3600
IDEMPOTENCY_TTL = 24 * 3600

Deliver = Callable[[str, Publication], None]


class BrokerUnavailable(Exception):
    """The broker's store cannot be reached; nothing was published."""


def new_epoch() -> str:
    return secrets.token_hex(4)


def channel_kind(channel: str) -> str:
    """The kind part of a well-formed name (``kind:arg`` -> ``kind``); a bare name is its own kind."""
    return channel.rpartition(":")[0] or channel


class Broker(abc.ABC):
    """Publish with offsets, read history since a position, and subscribe this process to channels."""

    def __init__(self, history: dict[str, HistoryPolicy] | None = None) -> None:
        # Per kind (the application's, e.g. server/realtime/kinds.py); any other kind keeps FALLBACK_HISTORY.
        self.history_policy = dict(history or {})
        self._deliver: Deliver | None = None
        self.replaying = False
        """True while the broker delivers, from history, what this process missed during an outage (channel by
        channel, so not in the order it was published across channels; ``names.RECHECK`` comes first)."""
        self._replayed: list[Callable[[], None]] = []

    def attach(self, deliver: Deliver) -> None:
        """Register where this process's publications go (the hub calls this once, when it is built)."""
        if self._deliver is not None:
            raise RuntimeError("this broker already delivers to a hub")
        self._deliver = deliver

    def on_replayed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time a replay (see ``replaying``) has ended."""
        self._replayed.append(callback)

    def replay_order(self, channels: Iterable[str]) -> list[str]:
        """The order to replay ``channels`` in: ``names.RECHECK`` first, so a block made during the outage is
        applied before the chat lines and comments that followed it are delivered."""
        return sorted(channels, key=lambda c: (c != names.RECHECK, c))

    def replay_ended(self) -> None:
        self.replaying = False
        for callback in self._replayed:
            callback()

    def deliver(self, channel: str, pub: Publication) -> None:
        """Hand ``pub`` to the attached hub (dropped while nothing is attached)."""
        if self._deliver is not None:
            self._deliver(channel, pub)

    def policy(self, channel: str) -> HistoryPolicy:
        policy = self.history_policy.get(channel)  # a kind without argument (``timeline:public``)
        return policy or self.history_policy.get(channel_kind(channel), FALLBACK_HISTORY)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect; called once before use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Disconnect and stop background work."""

    @abc.abstractmethod
    async def publish(
        self, channel: str, event: str, data: bytes, *, idempotency_key: str | None = None, actor: int = 0
    ) -> Position:
        """Append ``event`` with JSON ``data`` to the channel's history and fan it out; return its position.

        A publish repeated with the same ``idempotency_key`` (within ``IDEMPOTENCY_TTL``) publishes nothing
        and returns the first one's position. ``actor`` travels with the publication (history included).
        """

    @abc.abstractmethod
    async def position(self, channel: str) -> Position:
        """The channel's latest position (offset 0 in a fresh epoch when it has no history yet)."""

    @abc.abstractmethod
    async def history(self, channel: str, since: Position | None) -> History:
        """The position and, when ``since`` is given and still covered, the publications after it."""

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Start delivering ``channel``'s publications to this process; returns once live."""

    @abc.abstractmethod
    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering ``channel`` to this process."""

    async def healthy(self) -> bool:
        """Whether the store answers now."""
        return True

    def seen(self, channel: str, position: Position) -> None:  # noqa: B027 - optional hook
        """``position`` of ``channel`` was delivered to a subscriber (the gateway calls this after each subscribe).

        A broker that detects gaps in its live feed (Redis) remembers it, to fill a later gap from history;
        one that cannot have gaps (memory) ignores it.
        """


def recover(since: Position | None, current: Position, publications: list[Publication]) -> History:
    """Decide whether ``publications`` (those retained after ``since``) cover everything since it."""
    if since is None or since.epoch != current.epoch or since.offset > current.offset:
        return History(current, False, [])
    if since.offset == current.offset:
        return History(current, True, [])
    pubs = [p for p in publications if p.offset > since.offset]
    if pubs and pubs[0].offset == since.offset + 1 and pubs[-1].offset == current.offset:
        return History(current, True, pubs)
    return History(current, False, [])
