"""Redis Cluster: ``REDIS_URL=redis+cluster://host:port[,host:port...]`` and its sharded pub/sub broker.

``connect(url)`` gives a ``redis.asyncio.RedisCluster`` for a ``redis+cluster://`` URL (any listed node
is a seed; the rest of the cluster is discovered) and a plain ``Redis`` otherwise, so every user of
Redis takes one URL.

``ClusterBroker`` keeps the single-node broker's keys and scripts, with two changes that make each
channel live on one shard: the pub/sub channel carries the same hash tag as the channel's history and
offset keys (``{prefix}:{<channel>}:p``), and the publish script uses ``SPUBLISH``, so a publication
goes to the shard that owns the channel's slot and no further (classic ``PUBLISH`` is broadcast to
every node of a cluster). Each node of this process holds one pub/sub connection per shard it needs,
``SSUBSCRIBE``s each channel on its owner and reads each shard in its own task.

Whatever breaks a channel's subscription (its shard's connection lost or the shard restarted, its
slot moved: the server then ``SUNSUBSCRIBE``s us, or a ``SSUBSCRIBE`` answers ``MOVED``) makes that
channel pending: the broker re-reads the slot map, subscribes it on its current owner and fills what
it missed from history, as the single-node broker does after a reconnect. Channels on other shards
are not touched. While a shard is down, commands on its channels fail at once (one probe per
``_PROBE`` seconds) rather than making the client re-read the slot map for everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from redis._parsers.commands import AsyncCommandsParser
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError

from channels.broker import IDEMPOTENCY_TTL, META_TTL, Broker, BrokerUnavailable, HistoryPolicy, Publication, new_epoch
from channels.protocol import Position
from channels.redis import _COMMAND_TIMEOUT, _ERRORS, _HISTORY, _IDLE_PING, _PUBLISH, RedisBroker
from channels.suppressed import suppressed

log = structlog.get_logger(__name__)

SCHEME = "redis+cluster"
_PROBE = 0.5  # seconds between attempts on a shard found down


def is_cluster(url: str | None) -> bool:
    return bool(url) and str(url).split("://", 1)[0].lower() == SCHEME


def _seeds(url: str) -> tuple[list[ClusterNode], dict[str, Any]]:
    """``redis+cluster://[user:password@]host:port[,host:port...]`` -> seed nodes and credentials."""
    rest = url.split("://", 1)[1]
    auth: dict[str, Any] = {}
    if "@" in rest:
        creds, rest = rest.rsplit("@", 1)
        user, _, password = creds.partition(":")
        if user:
            auth["username"] = unquote(user)
        if password:
            auth["password"] = unquote(password)
    hosts = rest.split("/", 1)[0].split("?", 1)[0]
    nodes = []
    for part in hosts.split(","):
        parsed = urlsplit(f"//{part.strip()}")
        if not parsed.hostname:
            raise ValueError("REDIS_URL: a redis+cluster:// URL lists host:port seeds separated by commas")
        nodes.append(ClusterNode(parsed.hostname, parsed.port or 6379))
    return nodes, auth


class CommandTable(AsyncCommandsParser):
    """The cluster client's command table (for key positions), read from the cluster once.

    redis-py reads it again (``COMMAND``: a few hundred entries parsed in Python) on every re-initialization,
    and it re-initializes after every connection error: while a shard is down, after each probe of it.
    The table does not change when a shard dies, but those re-reads ran on the event loop and serialized
    every other command behind the client's init lock. Measured on the loaded test machine (4 CPU
    burners): publishes on a healthy shard fell from 242/s to 7/s while another shard was down, 25
    re-reads taking 3.6 s of 8 (the shard-restart test "hung" for minutes that way). A slot map re-read
    still happens (it is what finds a moved slot or a shard back); only the command table is kept.
    """

    async def initialize(self, node: Any = None) -> None:
        if node is not None:
            self.node = node
        if not self.commands:
            await super().initialize(node)


# Commands one broker runs at once (well below the cluster client's per-node pool, see ``connect``).
_CONCURRENCY = 128
# The cluster client's connections per node: the broker's _CONCURRENCY, presence bursts and the app's own.
_CLUSTER_POOL = 512


def connect(
    url: str,
    *,
    max_connections: int = 64,
    timeout: float | None = 5,
    socket_connect_timeout: float = 5,
    health_check_interval: int = 15,
) -> Any:
    """The process's Redis client for ``url``: ``RedisCluster`` for ``redis+cluster://``, else ``Redis``.

    One per process (the composition root builds it): the broker, presence and every domain share its
    connections, and pub/sub takes dedicated connections from it. A single node gets a blocking pool of
    ``max_connections``: a burst (1,000 sockets subscribing at once) waits up to ``timeout`` for a free
    connection instead of failing the 65th command. (More connections made the burst slower, not faster:
    160 of them opened at once on a loaded machine took seconds, and connects timed out at 2 s.)

    No socket_timeout (redis-py defaults to 5 s): it bounds each write with asyncio.wait_for, which on
    Python 3.11 swallows a cancellation that lands as the write completes, so a task cancelled mid-command
    ran on (background loops never stopped and held up shutdown). Callers bound commands with
    asyncio.timeout instead. No hidden retries either (redis-py's default for a pool): a failure surfaces
    at once, so the broker knows it must catch up, and a publish whose reply was lost is never run twice.
    """
    options: dict[str, Any] = {"socket_timeout": None, "socket_connect_timeout": socket_connect_timeout}
    if is_cluster(url):
        nodes, auth = _seeds(url)
        # A shard that is down leaves its slots uncovered; the others keep serving. Its per-node pools do
        # not wait (past max_connections a command fails with MaxConnectionsError), so they are large.
        cluster = RedisCluster(
            startup_nodes=nodes,
            require_full_coverage=False,
            max_connections=max(max_connections, _CLUSTER_POOL),
            # No hidden retries here either (redis-py's cluster default is 3, each after re-reading the slot
            # map): a publish whose reply was lost ran twice, and each retry on a dead shard re-read the map.
            retry=Retry(NoBackoff(), 0),
            **auth,
            **options,
        )
        cluster.commands_parser = CommandTable()
        return cluster
    from redis.asyncio import BlockingConnectionPool

    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=health_check_interval,
        **options,
    )
    return Redis.from_pool(pool)


# The single-node publish script, sharded: SPUBLISH to the channel's own slot, and the idempotency key
# always a real key of that slot (an empty key name would hash to slot 0), used when ARGV[9] is '1'.
_SPUBLISH = _PUBLISH.replace("redis.call('PUBLISH',", "redis.call('SPUBLISH',").replace(
    "KEYS[3] ~= ''", "ARGV[9] == '1'"
)
assert _SPUBLISH.count("SPUBLISH") == 1 and _SPUBLISH.count("ARGV[9] == '1'") == 2 and "ARGV[9]" not in _PUBLISH


class ClusterBroker(RedisBroker):
    """The Redis broker on a cluster: sharded pub/sub, each channel's keys and topic in one slot."""

    def __init__(
        self, cluster: RedisCluster, *, prefix: str = "sf:rt", history: dict[str, HistoryPolicy] | None = None
    ) -> None:
        """``cluster``: the process's cluster client (``connect``); the broker uses it, its owner closes it."""
        Broker.__init__(self, history)
        self._prefix = prefix
        self._cluster = cluster
        self._redis = cluster  # type: ignore[assignment]  # the scripts' client, as in the base class
        self._publish = self._redis.register_script(_SPUBLISH)
        self._history = self._redis.register_script(_HISTORY)
        self._channels: set[str] = set()
        self._last: dict[str, Position | None] = {}
        self._confirm: dict[bytes, asyncio.Future[None]] = {}
        self._live = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # Per shard (node name): its pub/sub connection and the task reading it.
        self._shards: dict[str, tuple[Redis, Any, asyncio.Task[None]]] = {}
        self._topics: dict[bytes, str] = {}
        self._wake = asyncio.Event()  # a channel became pending, or a shard answered again
        self._where: dict[str, str] = {}  # channel -> the shard holding its subscription
        self._closers: set[asyncio.Task[None]] = set()
        self._pending: set[str] = set()  # channels not subscribed yet (their shard down, a stale slot map)
        self._down: dict[str, float] = {}  # shard -> until when commands on it fail fast
        # RedisCluster's per-node pools do not wait: past max_connections a command fails at once with
        # MaxConnectionsError (a ConnectionError, so its shard looked down). A burst (1,000 sockets
        # subscribing together) waits here for one of _CONCURRENCY slots instead, as the single-node
        # broker's commands do (``RedisBroker._command``); each holder is bounded by _COMMAND_TIMEOUT.
        self._gate = asyncio.Semaphore(_CONCURRENCY)

    def _topic(self, channel: str) -> bytes:
        return f"{self._prefix}:{{{channel}}}:p".encode()

    async def publish(
        self, channel: str, event: str, data: bytes, *, idempotency_key: str | None = None, actor: int = 0
    ) -> Position:
        policy = self.policy(channel)
        idem = f"{self._prefix}:{{{channel}}}:i:{idempotency_key or ''}"
        args: list[Any] = [new_epoch(), policy.size, policy.ttl, max(META_TTL, policy.ttl)]
        args += [event.encode() + b"\n" + data, self._topic(channel), IDEMPOTENCY_TTL, actor]
        args.append("1" if idempotency_key is not None else "0")
        async with self._on_owner(channel):
            offset, epoch = await self._publish(keys=[*self._keys(channel), idem], args=args)
        return Position(int(offset), epoch.decode())

    async def _read(self, channel: str, since: Position | None) -> tuple[Position, list[Publication]]:
        async with self._on_owner(channel):
            return await self._read_script(channel, since)

    @contextlib.asynccontextmanager
    async def _on_owner(self, channel: str) -> AsyncIterator[None]:
        """A command on ``channel``'s shard; fails at once while that shard was just found down.

        Every failed command makes redis-py re-read the slot map before the next command of anyone, so
        retrying a dead shard in a loop (a publisher waiting for it) slowed every other shard's channels
        to a crawl (~3,400 publishes/s to ~10/s measured): a dead shard is probed once per ``_PROBE`` s.
        """
        node = self._owner(self._topic(channel)).name
        if self._down.get(node, 0.0) > time.monotonic():
            raise BrokerUnavailable(f"shard {node} is down")
        try:
            async with self._gate, asyncio.timeout(_COMMAND_TIMEOUT):
                yield
        except BrokerUnavailable:
            raise
        except _ERRORS as exc:
            if isinstance(exc, ConnectionError | OSError | asyncio.TimeoutError):
                self._down[node] = time.monotonic() + _PROBE
            raise BrokerUnavailable(str(exc)) from exc
        if self._down.pop(node, None) is not None and self._pending:
            self._wake.set()  # that shard is back: subscribe its channels now, before history rolls over

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self._drop_shards()

    async def healthy(self) -> bool:
        try:
            async with asyncio.timeout(2):
                pongs = await self._cluster.ping(target_nodes=RedisCluster.PRIMARIES)
        except _ERRORS:
            return False
        return bool(pongs) and self.connected

    # --- subscriptions ---------------------------------------------------------------------------

    def _owner(self, topic: bytes) -> ClusterNode:
        node = self._cluster.get_node_from_key(topic.decode())
        if node is None:
            raise BrokerUnavailable("no shard owns this channel's slot")
        return node

    async def _shard(self, node: ClusterNode) -> Any:
        """This process's pub/sub connection to ``node`` (made, with its reader, on first use)."""
        held = self._shards.get(node.name)
        if held is not None:
            return held[1]
        # A connection of its own per shard, to the node the cluster client maps the slot to, with that
        # client's credentials and timeouts. (redis-py's ClusterPubSub routes SSUBSCRIBE itself; the broker
        # needs to know which connection holds which channel, to re-subscribe only a lost shard's.)
        kwargs = self._cluster.get_connection_kwargs()
        client = Redis(
            host=node.host,
            port=int(node.port),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            socket_connect_timeout=kwargs.get("socket_connect_timeout"),
            socket_timeout=None,
            retry=Retry(NoBackoff(), 0),
        )
        pubsub = client.pubsub()
        task = asyncio.create_task(self._read_shard(node.name, pubsub), name=f"redis-cluster-reader-{node.name}")
        self._shards[node.name] = (client, pubsub, task)
        return pubsub

    async def _ssubscribe(self, channel: str) -> None:
        topic = self._topic(channel)
        self._topics[topic] = channel
        waiter = self._confirm.setdefault(topic, asyncio.get_running_loop().create_future())
        try:
            async with asyncio.timeout(_COMMAND_TIMEOUT):
                node = self._owner(topic)
                pubsub = await self._shard(node)
                await pubsub.ssubscribe(topic)
                await asyncio.shield(waiter)
            self._where[channel] = node.name
        finally:
            self._confirm.pop(topic, None)

    async def subscribe(self, channel: str) -> None:
        if channel in self._channels:
            return
        self._channels.add(channel)
        self._last.setdefault(channel, None)
        if not self._live.is_set():
            return  # subscribed by the resync under way
        try:
            await self._ssubscribe(channel)
        except _ERRORS as exc:
            # MOVED (a stale slot map) or its shard down: retried with the others after a slot-map refresh.
            self._where.pop(channel, None)
            self._pending.add(channel)
            self._wake.set()
            raise BrokerUnavailable(str(exc)) from exc

    async def unsubscribe(self, channel: str) -> None:
        if channel not in self._channels:
            return
        self._channels.discard(channel)
        self._last.pop(channel, None)
        self._pending.discard(channel)
        topic = self._topic(channel)
        self._topics.pop(topic, None)
        if self._live.is_set():
            where = self._where.pop(channel, None)
            held = self._shards.get(where) if where is not None else None
            if held is not None:
                with contextlib.suppress(*_ERRORS):
                    await held[1].sunsubscribe(topic)

    # --- readers -----------------------------------------------------------------------------------

    async def _read_shard(self, name: str, pubsub: Any) -> None:
        try:
            while True:
                if not pubsub.subscribed:
                    await asyncio.sleep(0.05)  # nothing subscribed on this shard yet
                    continue
                msg = await pubsub.get_message(timeout=_IDLE_PING)
                if msg is None:
                    async with asyncio.timeout(_COMMAND_TIMEOUT):
                        await pubsub.ping()
                    continue
                await self._on_shard_message(msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._closing:
                log.warning("redis cluster shard lost", shard=name, error=str(exc))
                self._lose_shard(name)

    def _lose_shard(self, name: str) -> None:
        """``name``'s connection is gone: its channels wait (pending) for their owner, the others carry on."""
        held = self._shards.pop(name, None)
        if held is not None:
            self._closers.add(asyncio.create_task(self._close_shard(*held)))
        for channel, where in list(self._where.items()):
            if where == name:
                del self._where[channel]
                self._pending.add(channel)
        self._wake.set()

    async def _close_shard(self, client: Redis, pubsub: Any, task: asyncio.Task[None]) -> None:
        if task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with suppressed("cluster_shard_pubsub_close_failed", level="debug"):  # its connection may be gone
            await pubsub.aclose()
        with suppressed("cluster_shard_client_close_failed", level="debug"):
            await client.aclose()

    async def _on_shard_message(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        topic: bytes = msg["channel"]
        if kind == "ssubscribe":
            waiter = self._confirm.get(topic)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if kind == "sunsubscribe":
            channel = self._topics.get(topic)
            if channel is not None and channel in self._channels:  # not ours: its slot moved away
                log.info("redis cluster slot moved", channel=channel)
                self._where.pop(channel, None)
                self._pending.add(channel)
                self._wake.set()
            return
        if kind != "smessage":
            return
        channel = self._topics.get(topic)
        if channel is None or channel not in self._channels:
            return
        raw_offset, raw_epoch, actor, event, data = msg["data"].split(b"\n", 4)
        pub = Publication(int(raw_offset), raw_epoch.decode(), event.decode(), data, int(actor))
        last = self._last.get(channel)
        if last is not None and last.epoch == pub.epoch:
            if pub.offset <= last.offset:
                return
            if pub.offset > last.offset + 1:
                await self._fill(channel, last, pub.offset - 1)
        self._last[channel] = Position(pub.offset, pub.epoch)
        self.deliver(channel, pub)

    async def _drop_shards(self) -> None:
        shards, self._shards = self._shards, {}
        self._where.clear()
        for held in shards.values():
            await self._close_shard(*held)
        closers, self._closers = self._closers, set()
        for closer in closers:
            with contextlib.suppress(BaseException):
                await closer

    async def _subscribe_pending(self) -> None:
        """Subscribe (and catch up) each pending channel on its owner; what fails stays pending."""
        down: set[str] = set()
        self.replaying = True
        try:
            await self._subscribe_each(down)
        finally:
            self.replay_ended()

    async def _subscribe_each(self, down: set[str]) -> None:
        for channel in self.replay_order(self._pending):
            if channel not in self._channels:
                self._pending.discard(channel)
                continue
            try:
                node = self._owner(self._topic(channel)).name
            except (*_ERRORS, BrokerUnavailable):
                continue  # its slot is not covered right now
            if node in down:
                continue  # one failure per shard and round is enough
            try:
                await self._ssubscribe(channel)
                await self._catch_up(channel)
            except (*_ERRORS, BrokerUnavailable) as exc:
                down.add(node)
                log.debug("redis cluster channel pending", channel=channel, error=str(exc))
                continue
            self._pending.discard(channel)

    async def _run(self) -> None:
        """Subscribe everything on its owner, then keep subscribing what becomes pending (a lost shard's
        channels, a moved slot's) until it is back, catching each up from history."""
        delay, first = 0.05, True
        while not self._closing:
            try:
                async with asyncio.timeout(_COMMAND_TIMEOUT):
                    await (self._cluster.initialize() if first else self._cluster.nodes_manager.initialize())
                first = False
                self._pending = set(self._channels)
                await self._subscribe_pending()
                self._live.set()
                while True:
                    if not self._pending:
                        delay = 0.05
                        self._wake.clear()
                        await self._wake.wait()
                        continue
                    log.warning("redis cluster broker degraded", pending=len(self._pending))
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._wake.wait()  # a shard answered again, or more became pending
                    delay = min(delay * 2, _PROBE)
                    with contextlib.suppress(*_ERRORS):
                        async with asyncio.timeout(_COMMAND_TIMEOUT):
                            await self._cluster.nodes_manager.initialize()  # the current slot map
                    await self._subscribe_pending()
                    if not self._pending:
                        log.info("redis cluster broker resubscribed", channels=len(self._channels))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("redis cluster broker disconnected", error=str(exc), retry_in=delay)
                delay = min(delay * 2, 2.0)
            self._live.clear()
            await self._drop_shards()
            await asyncio.sleep(delay)
