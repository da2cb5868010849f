"""Redis broker: history in a stream per channel, appended and published by one Lua script.

Keys per channel (hash-tagged so a cluster keeps them in one slot): ``{prefix}:{channel}:m`` is a hash of
``e`` (epoch) and ``o`` (last offset); ``{prefix}:{channel}:s`` is a stream whose ids are ``offset-0``.
The pub/sub channel ``{prefix}:p:{channel}`` carries ``offset\\nepoch\\nactor\\nevent\\ndata``; a stream
entry holds ``v`` (``event\\ndata``) and ``a`` (the actor, ``0`` for none).

This process holds one pub/sub connection and subscribes to a channel once. If Redis goes away the
reader reconnects with backoff, re-subscribes everything, and fills what it missed from history; a gap
seen in live offsets is filled from history too, so subscribers keep receiving in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from channels.broker import (
    IDEMPOTENCY_TTL,
    META_TTL,
    Broker,
    BrokerUnavailable,
    History,
    HistoryPolicy,
    Publication,
    new_epoch,
    recover,
)
from channels.protocol import Position
from channels.suppressed import suppressed

log = structlog.get_logger(__name__)

# KEYS: meta, stream, idempotency key ('' for none).
# ARGV: new epoch, maxlen, stream ttl, meta ttl, "event\ndata", pubsub channel, idempotency ttl, actor.
_PUBLISH = """
if KEYS[3] ~= '' then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local sep = string.find(seen, ':', 1, true)
    return {tonumber(string.sub(seen, 1, sep - 1)), string.sub(seen, sep + 1)}
  end
end
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], offset .. '-0', 'v', ARGV[5], 'a', ARGV[8])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[6], offset .. '\\n' .. epoch .. '\\n' .. ARGV[8] .. '\\n' .. ARGV[5])
if KEYS[3] ~= '' then
  redis.call('SET', KEYS[3], offset .. ':' .. epoch, 'EX', ARGV[7])
end
return {offset, epoch}
"""

# KEYS: meta, stream. ARGV: new epoch, ttl of an epoch made by a read, since offset ('' for none), since epoch.
# A read of a quiet channel keeps its epoch for the channel's history TTL only (the first publish extends
# it to META_TTL), so subscribing to names nobody publishes on leaves nothing lasting in Redis.
_HISTORY = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
local offset = tonumber(redis.call('HGET', KEYS[1], 'o'))
if ARGV[3] == '' or ARGV[4] ~= epoch or tonumber(ARGV[3]) >= offset then
  return {offset, epoch, {}}
end
return {offset, epoch, redis.call('XRANGE', KEYS[2], (tonumber(ARGV[3]) + 1) .. '-0', '+')}
"""

_CONTROL = "ctl"
_IDLE_PING = 15.0
_COMMAND_TIMEOUT = 5.0
_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
# Failures that say Redis cannot be reached (not a script's own error): the commands queued behind fail with it.
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)
# Commands one broker runs at once: well below the client's blocking pool (``connect``: 64 connections), which
# the pub/sub readers, presence (``channels.presence``: 8 at once) and the domains share with it. One event loop
# is the bound on throughput long before 32 round trips in flight are.
_CONCURRENCY = 32


def _waited_for_the_pool(exc: BaseException) -> bool:
    """Whether ``exc`` is the blocking pool's "No connection available" (every connection busy, not Redis away)."""
    return isinstance(exc, RedisConnectionError) and isinstance(exc.__cause__, asyncio.TimeoutError)


class RedisBroker(Broker):
    """History and fan-out through Redis, shared by every process on the same Redis."""

    def __init__(self, redis: Redis, *, prefix: str = "sf:rt", history: dict[str, HistoryPolicy] | None = None) -> None:
        """``redis``: the process's client (``channels.redis_cluster.connect``); its owner closes it.

        Commands go through its pool; the reader's pub/sub takes one connection of that pool for as long as
        it is subscribed. Each command is bounded with asyncio.timeout here (the client has no socket_timeout,
        see ``connect``), which keeps cancellations intact.
        """
        super().__init__(history)
        self._prefix = prefix
        self._redis = redis
        self._publish = self._redis.register_script(_PUBLISH)
        self._history = self._redis.register_script(_HISTORY)
        self._channels: set[str] = set()
        self._last: dict[str, Position | None] = {}
        self._confirm: dict[bytes, asyncio.Future[None]] = {}
        self._pubsub: Any = None
        self._live = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._gate = asyncio.Semaphore(_CONCURRENCY)
        self._failures = 0  # commands that found Redis unreachable, so far
        self._failing = False  # the last command to finish found Redis unreachable

    def _keys(self, channel: str) -> list[str]:
        return [f"{self._prefix}:{{{channel}}}:m", f"{self._prefix}:{{{channel}}}:s"]

    def _topic(self, channel: str) -> bytes:
        return f"{self._prefix}:p:{channel}".encode()

    @property
    def connected(self) -> bool:
        """Whether the pub/sub connection is up (fan-out from other processes reaches this one)."""
        return self._live.is_set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="redis-broker-reader")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._live.wait()

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def healthy(self) -> bool:
        try:
            async with asyncio.timeout(2):
                return bool(await self._redis.ping()) and self.connected
        except _ERRORS:
            return False

    async def publish(
        self, channel: str, event: str, data: bytes, *, idempotency_key: str | None = None, actor: int = 0
    ) -> Position:
        policy = self.policy(channel)
        args: list[Any] = [new_epoch(), policy.size, policy.ttl, max(META_TTL, policy.ttl)]
        idem = f"{self._prefix}:{{{channel}}}:i:{idempotency_key}" if idempotency_key is not None else ""
        async with self._command():
            offset, epoch = await self._publish(
                keys=[*self._keys(channel), idem],
                args=[*args, event.encode() + b"\n" + data, self._topic(channel), IDEMPOTENCY_TTL, actor],
            )
        return Position(int(offset), epoch.decode())

    @contextlib.asynccontextmanager
    async def _command(self) -> AsyncIterator[None]:
        """Run one command: wait for one of ``_CONCURRENCY`` slots, then give Redis ``_COMMAND_TIMEOUT`` to answer.

        The deadline starts once the command holds a slot. It used to start before the wait for one of the
        pool's connections, so in a burst (1,000 sockets subscribing at once, each reading history) the
        commands at the back of the queue timed out behind those in front on a busy machine, while Redis
        answered each at once: a reconnect storm then failed sockets with "retry", which made it worse.
        Commands queued behind one that found Redis unreachable (refused, reset, or no answer within the
        deadline) fail with it, at once, instead of each waiting its turn to time out; one that arrives after
        it tries again. The pool's own "no connection available" does not count. A wait for a pool connection
        that outlasts the deadline does (it cannot be told from a silent Redis): the broker's and presence's
        gates keep their bursts out of the pool so that the pool does not fill.
        """
        failures = self._failures
        async with self._gate:
            if self._failing and self._failures != failures:
                raise BrokerUnavailable("Redis could not be reached while this command waited")
            try:
                async with asyncio.timeout(_COMMAND_TIMEOUT):
                    yield
            except _UNREACHABLE as exc:
                if not _waited_for_the_pool(exc):
                    self._failing = True
                    self._failures += 1
                raise BrokerUnavailable(str(exc)) from exc
            except _ERRORS as exc:
                raise BrokerUnavailable(str(exc)) from exc
            self._failing = False

    async def _read(self, channel: str, since: Position | None) -> tuple[Position, list[Publication]]:
        async with self._command():
            return await self._read_script(channel, since)

    async def _read_script(self, channel: str, since: Position | None) -> tuple[Position, list[Publication]]:
        """``_read`` itself, without the gate and deadline (the caller's: ``_command``, or the cluster's)."""
        args: list[Any] = [new_epoch(), max(1, self.policy(channel).ttl), "", ""]  # since: '' when none
        if since is not None:
            args[2:] = [since.offset, since.epoch]
        offset, raw_epoch, entries = await self._history(keys=self._keys(channel), args=args)
        epoch = raw_epoch.decode()
        pubs = []
        for entry_id, fields in entries:
            event, _, data = fields[1].partition(b"\n")
            actor = int(fields[3]) if len(fields) > 3 else 0
            pubs.append(Publication(int(entry_id.split(b"-", 1)[0]), epoch, event.decode(), data, actor))
        return Position(int(offset), epoch), pubs

    async def position(self, channel: str) -> Position:
        return (await self._read(channel, None))[0]

    def queue_position(self, pipe: Any, channel: str) -> Callable[[Any], Position]:
        """Queue ``position(channel)`` on ``pipe`` (a non-transactional pipeline of this broker's client, so a
        caller reads it in the same round trip as its own keys); returns what turns its reply into a Position.

        As ``EVAL``, not ``EVALSHA``: a pipeline holding a registered script first asks ``SCRIPT EXISTS`` in a
        round trip of its own. Not on a cluster (whose pipelines refuse scripts): call ``position`` there.
        """
        args = [new_epoch(), max(1, self.policy(channel).ttl), "", ""]
        pipe.eval(_HISTORY, 2, *self._keys(channel), *args)
        return lambda reply: Position(int(reply[0]), reply[1].decode())

    async def history(self, channel: str, since: Position | None) -> History:
        current, pubs = await self._read(channel, since)
        if since is None:
            return History(current, False, [])
        return recover(since, current, pubs)

    async def subscribe(self, channel: str) -> None:
        if channel in self._channels:
            return
        self._channels.add(channel)
        self._last.setdefault(channel, None)
        if not self._live.is_set():
            return  # the reader subscribes it when Redis is back
        topic = self._topic(channel)
        waiter = self._confirm.setdefault(topic, asyncio.get_running_loop().create_future())
        try:
            async with asyncio.timeout(_COMMAND_TIMEOUT):
                await self._pubsub.subscribe(topic)
                await asyncio.shield(waiter)
        except _ERRORS as exc:
            raise BrokerUnavailable(str(exc)) from exc
        finally:
            self._confirm.pop(topic, None)

    async def unsubscribe(self, channel: str) -> None:
        if channel not in self._channels:
            return
        self._channels.discard(channel)
        self._last.pop(channel, None)
        if self._live.is_set():
            with contextlib.suppress(*_ERRORS):
                await self._pubsub.unsubscribe(self._topic(channel))

    def seen(self, channel: str, position: Position) -> None:
        """Remember a position known to be delivered, so a later gap can be filled from history."""
        if channel in self._channels and self._last.get(channel) is None:
            self._last[channel] = position

    # --- the reader ----------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closing:
            pubsub: Any = self._redis.pubsub()  # redis-py leaves PubSub.aclose untyped
            try:
                topics = [self._topic(c) for c in self._channels]
                async with asyncio.timeout(_COMMAND_TIMEOUT):
                    await pubsub.subscribe(f"{self._prefix}:{_CONTROL}", *topics)
                self._pubsub = pubsub
                pending = len(topics) + 1
                async with asyncio.timeout(_COMMAND_TIMEOUT + len(topics) / 1000):
                    while pending:  # every subscription confirmed before anything is read from history
                        msg = await pubsub.get_message(timeout=None)
                        if msg is not None and msg["type"] == "subscribe":
                            pending -= 1
                self._live.set()
                if backoff > 0.05:
                    log.info("redis broker reconnected", channels=len(topics))
                backoff = 0.05
                self.replaying = True
                try:
                    for channel in self.replay_order(self._channels):
                        await self._catch_up(channel)
                finally:
                    self.replay_ended()
                while True:
                    msg = await pubsub.get_message(timeout=_IDLE_PING)
                    if msg is None:
                        # Quiet for a while: a PING proves the connection is alive (a silently dropped
                        # connection would otherwise block here forever, missing every publication).
                        async with asyncio.timeout(_COMMAND_TIMEOUT):
                            await pubsub.ping()
                        continue
                    await self._on_message(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._live.clear()
                log.warning("redis broker disconnected", error=str(exc), retry_in=backoff)
            finally:
                self._live.clear()
                with suppressed("redis_broker_pubsub_close_failed", level="debug"):  # the connection is gone
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _on_message(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "subscribe":
            waiter = self._confirm.get(msg["channel"])
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if kind != "message":
            return
        topic: bytes = msg["channel"]
        channel = topic.decode()[len(self._prefix) + 3 :]
        if channel not in self._channels:
            return
        raw_offset, raw_epoch, actor, event, data = msg["data"].split(b"\n", 4)
        pub = Publication(int(raw_offset), raw_epoch.decode(), event.decode(), data, int(actor))
        last = self._last.get(channel)
        if last is not None and last.epoch == pub.epoch:
            if pub.offset <= last.offset:
                return  # already delivered while catching up
            if pub.offset > last.offset + 1:
                await self._fill(channel, last, pub.offset - 1)
        self._last[channel] = Position(pub.offset, pub.epoch)
        self.deliver(channel, pub)

    async def _fill(self, channel: str, since: Position, upto: int) -> None:
        """Deliver what pub/sub missed between ``since`` and ``upto`` from history, when it still holds it."""
        try:
            _, pubs = await self._read(channel, since)
        except BrokerUnavailable:
            return
        for pub in pubs:
            if pub.offset <= upto and pub.epoch == since.epoch:
                self.deliver(channel, pub)
                self._last[channel] = Position(pub.offset, pub.epoch)

    async def _catch_up(self, channel: str) -> None:
        last = self._last.get(channel)
        if last is None:
            return
        _, pubs = await self._read(channel, last)
        for pub in pubs:
            self.deliver(channel, pub)
            self._last[channel] = Position(pub.offset, pub.epoch)
