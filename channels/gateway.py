"""The websocket endpoint: auth, subscribe authorization, fan-out and backpressure, per socket.

The gateway knows nothing of the app: it is given who a token belongs to (``authenticate``), who may
subscribe or publish (``policy``), and a ``Broker``. A socket arrives one of two ways:

- served (``channels.wire.GatewayProtocol`` under uvicorn): the protocol calls ``open``, ``receive`` and
  ``lost``; an idle socket has no task at all, a command that awaits runs in a short task of its own, and
  event frames are written to the socket's transport as the very bytes the hub framed once per event;
- as an ASGI websocket (``serve``; tests and other servers): its reader is that coroutine and frames go
  through the server's ``send``.

Either way a socket has a bounded queue, drained by one flusher task per gateway (a socket's frames of one
turn leave in one write); timers (auth timeout, token expiry) are loop callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import structlog

from channels import names, protocol
from channels.broker import BrokerUnavailable
from channels.hub import HIDDEN, NOBODY, Hub, SendQueue, Sub
from channels.protocol import (
    BAD_REQUEST,
    CLOSE_GOING_AWAY,
    CLOSE_ORIGIN,
    CLOSE_RATE_LIMITED,
    CLOSE_REVOKED,
    CLOSE_SLOW,
    CLOSE_TOO_LARGE,
    CLOSE_UNAUTHORIZED,
    FORBIDDEN,
    RATE_LIMITED,
    TOO_MANY_SUBSCRIPTIONS,
    UNAUTHORIZED,
    UNAVAILABLE,
)
from channels.suppressed import suppressed

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a token belongs to, and until when it is valid (unix seconds; ``None`` for never)."""

    user_id: int
    session_id: int
    expires_at: float | None = None


class Unauthenticated(Exception):
    """The token is not valid (raised by the injected ``authenticate``)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a client's ``publish`` becomes on the channel: ``event`` with JSON ``data``."""

    event: str
    data: bytes


class PublishRefused(Exception):
    """A policy refuses a client's publish: the client gets an ``error`` frame with ``code``; the socket stays."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Policy(Protocol):
    """Who may subscribe to a channel, and what a client's publish on one becomes."""

    async def may_subscribe(self, user_id: int, channel: names.Channel) -> bool: ...

    async def publish(self, user_id: int, channel: names.Channel, event: str, data: bytes) -> Outgoing | None:
        """``Outgoing`` to publish as is, ``None`` when the policy took the publish itself (stored it
        and queued its event, or folded it into a coalesced one); raise ``PublishRefused`` to refuse."""
        ...


class PresenceTracker(Protocol):
    async def join(self, user_id: int, channel: str | None) -> None: ...

    async def leave(self, user_id: int, channel: str | None) -> None: ...

    async def members(self, channel: str) -> list[str]: ...

    def tracks(self, channel: names.Channel) -> bool: ...


class Wire(Protocol):
    """A served socket's transport, as the gateway writes to it (``channels.wire.GatewayProtocol``)."""

    def write(self, data: bytes) -> int:
        """Write whole frames; return the bytes the transport still holds for this socket."""
        ...

    def send_close(self, code: int) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def keepalive(self, now: float) -> None:
        """The gateway's keepalive tick (``Gateway.keepalive``): ping, or fail a ping that went unanswered."""
        ...


class Socket(Protocol):
    """The ASGI websocket as the gateway uses it (Litestar's ``WebSocket`` is one)."""

    scope: Any

    async def accept(self) -> None: ...

    async def receive(self) -> Any: ...

    async def send(self, message: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    auth_timeout: float = 10.0
    expiry_grace: float = 30.0
    max_subscriptions: int = 100
    max_frame: int = 64 * 1024
    queue_count: int = 1000
    queue_chars: int = 4 * 1024 * 1024
    """Bytes a socket may have unsent: queued frames, and for a served socket also its transport's buffer."""
    rate: float = 20.0
    """Commands per second a socket may send on average, with a burst of ``rate * 2``."""
    max_violations: int = 10
    """Commands refused for rate within one burst window before the socket is closed with 4029."""
    allowed_origins: tuple[str, ...] = ("*",)


Authenticate = Callable[[str], Awaitable[Identity]]
Relations = Callable[[int], Awaitable[Iterable[int]]]
"""The users in a block relation with a user (either way): their publications are withheld from them."""


RAW_SEND = "channels.raw_send"
"""Scope key under which ``serve_directly`` leaves the server's own ASGI ``send`` for a websocket."""


class _RawSocket:
    """The plain ASGI websocket (scope, receive, send) as the gateway's ``Socket``."""

    __slots__ = ("receive", "scope", "send")

    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope, self.receive, self.send = scope, receive, send

    async def accept(self) -> None:
        await self.receive()  # websocket.connect
        await self.send({"type": "websocket.accept"})


def serve_directly(app: Any, path: str, gateway: Callable[[], Gateway | None]) -> Any:
    """Wrap an ASGI app so websockets on ``path`` go straight to the gateway, past the framework.

    A framework's routing and middleware stay suspended for a socket's whole life (a dozen coroutine
    frames per idle socket) and wrap ``send`` in layers that only matter for HTTP (one more coroutine
    per frame per socket on the fan-out path). Other websockets still reach ``app``, with the server's
    ``send`` left under ``RAW_SEND`` for the gateway's event frames. Under uvicorn with
    ``channels.wire.GatewayProtocol``, sockets on ``path`` never become ASGI calls at all.
    """

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            target = gateway() if scope["path"] == path else None
            if target is not None:
                await target.serve(_RawSocket(scope, receive, send))
                return
            scope[RAW_SEND] = send
        await app(scope, receive, send)

    wrapped.direct_route = (path, gateway)  # type: ignore[attr-defined]  # found by channels.wire
    return wrapped


def _header(socket: Socket, name: bytes) -> str | None:
    """One handshake header, read from the raw ASGI scope (a parsed headers object per socket costs ~2 KiB)."""
    for key, value in socket.scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class _Resume:
    """Await a coroutine that was already started by hand and suspended at ``step`` (a future it awaits)."""

    __slots__ = ("coro", "step")

    def __init__(self, coro: Any, step: Any) -> None:
        self.coro = coro
        self.step = step

    def __await__(self) -> Any:
        coro, step = self.coro, self.step
        while True:
            try:
                yield step
            except BaseException as exc:  # cancelled (or failed) while waiting: the coroutine decides
                try:
                    step = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    step = coro.send(None)
                except StopIteration as stop:
                    return stop.value


@dataclass(eq=False, slots=True)
class Conn:
    """One connected socket: an ASGI ``socket``, or a served ``wire``."""

    socket: Socket | None
    gateway: Gateway
    wire: Wire | None = None
    identity: Identity | None = None
    subs: dict[str, Sub] = field(default_factory=dict)
    out: SendQueue = field(init=False)
    close_code: int | None = None
    timer: asyncio.TimerHandle | None = None
    tokens: float = 0.0
    stamp: float = 0.0
    violations: int = 0
    reader: asyncio.Task[Any] | None = None
    """ASGI: the task reading the socket. Served: the task running commands, only while one awaits."""
    inbox: deque[str | bytes] | None = None
    """Served: frames that arrived while a command was running, in order (``None`` while none runs)."""
    writer: asyncio.Task[None] | None = None
    """ASGI only, and only while a send is blocked (the transport pushes back): finishes it and drains the queue."""
    closed: bool = False
    closer: asyncio.Task[None] | None = None
    blocked: set[int] | frozenset[int] = NOBODY
    """Users in a block relation with this socket's user, loaded at its first subscribe and shared (as
    ``Sub.hidden``) by all its subscriptions; ``Gateway.relations_changed`` keeps it current. The shared
    empty ``NOBODY`` until there is someone (most sockets: an empty set is 216 bytes); see ``block``."""
    relations_loaded: bool = False
    relation_log: list[tuple[int, bool]] | None = None
    """Changes seen while ``blocked`` is being loaded, replayed on top of what the load read."""

    def __post_init__(self) -> None:
        cfg = self.gateway.config
        self.out = SendQueue(cfg.queue_count, cfg.queue_chars, self, self.gateway.schedule_queue)
        self.tokens = cfg.rate * 2
        self.stamp = time.monotonic()

    def push(self, frame: bytes) -> None:
        if self.close_code is None:
            self.out.push(frame)

    def block(self, other: int, on: bool) -> None:
        """``other`` entered (``True``) or left a block relation with this socket's user."""
        blocked = self.blocked
        if on:
            if not isinstance(blocked, set):
                blocked = set()
                self.hide(blocked)
            blocked.add(other)
        elif isinstance(blocked, set):
            blocked.discard(other)

    def hide(self, blocked: set[int] | frozenset[int]) -> None:
        """Make ``blocked`` this socket's block set, and the live view of every subscription it has."""
        self.blocked = blocked
        for sub in self.subs.values():
            sub.hidden = blocked

    def reply(self, frame: protocol.ServerFrame) -> None:
        self.push(protocol.encode_frame(frame))

    def kill(self, code: int) -> None:
        """Close with ``code``: a slow consumer at once, others after what is queued (error frames) is sent."""
        if self.close_code is not None:
            return
        self.close_code = code
        if code == CLOSE_SLOW:
            self.gateway.slow_closes += 1
        if self.timer is not None:
            self.timer.cancel()
        if self.wire is not None:  # served: writes never wait, so the close is written now, behind the queue
            if code == CLOSE_SLOW:
                self.out.queue.clear()
            self.flush()
            self.closed = True
            self.wire.send_close(code)
            return
        self.closer = asyncio.get_running_loop().create_task(self._close(code))
        self.gateway.closing_started(self.closer)

    async def _drained(self) -> None:
        while self.out.queue or self.writer is not None:  # noqa: ASYNC110 - a bounded wait at close only
            await asyncio.sleep(0.005)

    async def _close(self, code: int) -> None:
        if code != CLOSE_SLOW:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drained(), 1.0)
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(BaseException):
                await self.writer
        self.closed = True
        self.out.queue.clear()
        with suppressed("ws_close_frame_not_sent", level="debug", code=code):  # the peer may be gone already
            await self.socket.send({"type": "websocket.close", "code": code, "reason": ""})  # type: ignore[union-attr]
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()
        self.gateway.closing_done(asyncio.current_task())

    def flush(self) -> None:
        """Send what is queued, without yielding while the transport takes it (the usual case)."""
        out = self.out
        queue = out.queue
        if self.closed or not queue:
            queue.clear()
            out.chars = 0
            out.scheduled = False
            return
        wire = self.wire
        if wire is not None:  # the frames as they are, in one write; the transport's buffer is the queue now
            data = queue[0] if len(queue) == 1 else b"".join(queue)
            queue.clear()
            out.chars = 0
            out.scheduled = False
            if wire.write(data) > self.gateway.config.queue_chars:
                self.kill(CLOSE_SLOW)
            return
        assert self.socket is not None
        send = self.socket.scope.get(RAW_SEND) or self.socket.send
        while queue:
            frame = queue.pop(0)
            out.chars -= len(frame)
            coro = send({"type": "websocket.send", "text": protocol.frame_payload(frame).decode()})
            try:
                step = coro.send(None)
            except StopIteration:
                continue
            except Exception:  # the peer is gone: its reader sees the disconnect and cleans up
                queue.clear()
                out.chars = 0
                break
            # The send waits for the transport: finish it, and this queue, in a task of this socket's own.
            self.writer = asyncio.get_running_loop().create_task(self._write_slowly(_Resume(coro, step)))
            return
        out.scheduled = False

    async def _write_slowly(self, pending: _Resume) -> None:
        out = self.out
        assert self.socket is not None
        send = self.socket.scope.get(RAW_SEND) or self.socket.send
        try:
            await pending
            while out.queue and not self.closed:
                frame = out.queue.pop(0)
                out.chars -= len(frame)
                await send({"type": "websocket.send", "text": protocol.frame_payload(frame).decode()})
        except Exception:
            out.queue.clear()
            out.chars = 0
        finally:
            self.writer = None
            out.scheduled = False

    def allow(self) -> bool:
        """Token bucket: whether one more command fits the socket's rate."""
        cfg = self.gateway.config
        now = time.monotonic()
        self.tokens = min(cfg.rate * 2, self.tokens + (now - self.stamp) * cfg.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.violations = 0
            return True
        self.violations += 1
        return False


class Gateway:
    """Serves websocket connections for one process; ``close_all`` and ``revoke`` act on all of them."""

    def __init__(
        self,
        hub: Hub,
        authenticate: Authenticate,
        policy: Policy,
        config: GatewayConfig | None = None,
        presence: PresenceTracker | None = None,
        relations: Relations | None = None,
        *,
        vocabulary: names.Vocabulary,
    ) -> None:
        self.hub = hub
        self.vocabulary = vocabulary  # the channel kinds sockets may name; anything else is invalid
        self.broker = hub.broker
        self.authenticate = authenticate
        self.policy = policy
        self.config = config or GatewayConfig()
        self.presence = presence
        self.relations = relations
        self.conns: set[Conn] = set()
        self.slow_closes = 0
        """Sockets closed with 4008 so far (read by the metrics sampler)."""
        self._by_session: dict[int, set[Conn]] = {}
        self._closers: set[asyncio.Task[Any]] = set()
        self.closing = False
        self._dirty: list[SendQueue] = []
        self._wake: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._keepalive_every = 0.0
        self.schedule_queue = self.schedule
        """``schedule``, bound once: every socket's ``SendQueue`` holds this object, not a bound method of its own."""

    # --- sending ---------------------------------------------------------------------------------

    def closing_started(self, closer: asyncio.Task[None]) -> None:
        """A socket started closing (``close_all`` waits for ``closer``)."""
        self._closers.add(closer)

    def closing_done(self, closer: asyncio.Task[Any] | None) -> None:
        if closer is not None:
            self._closers.discard(closer)

    def schedule(self, out: SendQueue) -> None:
        """``out`` has something to send: the flusher takes it on its next turn."""
        self._dirty.append(out)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop(), name="gateway-flusher")
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _flush_loop(self) -> None:
        """One task sends for every socket: a fan-out costs one wake-up, not one per socket."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._dirty:
                self._wake = loop.create_future()
                try:
                    await self._wake
                finally:
                    self._wake = None
            self._flush_round()
            await asyncio.sleep(0)  # let readers and the broker run between rounds

    def _flush_round(self) -> None:
        """Flush every queue that asked since the last round.

        A function of its own so that the round's list dies with it: kept in ``_flush_loop``'s frame, the last
        round's queues (a fan-out's every socket) stayed referenced while the flusher waited for the next send,
        and with them each closed socket's connection, protocol, transport and timers. After a 1,000-socket
        fan-out that doubled the objects every full garbage collection walks (~25k -> ~50k) until the next send.
        """
        dirty, self._dirty = self._dirty, []
        for out in dirty:
            if out.conn is not None:
                out.conn.flush()

    # --- whole-process actions --------------------------------------------------------------------

    def keepalive(self, every: float) -> None:
        """Tick every served socket's ``Wire.keepalive`` each ``every`` seconds, from one timer for all of them
        (started by the first served socket; a timer per socket was ~0.5 KiB of each idle socket)."""
        if self._keepalive is None and every > 0 and not self.closing:
            self._keepalive_every = every
            self._keepalive = asyncio.get_running_loop().call_later(every, self._keepalive_tick)

    def _keepalive_tick(self) -> None:
        self._keepalive = None
        if self.closing:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        for conn in list(self.conns):
            if conn.wire is not None:
                try:
                    conn.wire.keepalive(now)
                except Exception:  # one socket's failure must not stop the others' keepalive
                    log.exception("websocket keepalive failed")
        self._keepalive = loop.call_later(self._keepalive_every, self._keepalive_tick)

    def revoke(self, session_ids: list[int]) -> None:
        """Close every socket of these sessions with 4009."""
        for sid in session_ids:
            for conn in list(self._by_session.get(sid, ())):
                conn.kill(CLOSE_REVOKED)

    async def recheck(self, users: set[int] | None = None, kinds: set[str] | None = None) -> int:
        """Ask the policy again for the subscriptions of ``users`` (all of theirs) and of ``kinds`` (everyone's);
        end each one no longer allowed with an ``unsubscribed`` frame whose ``reason`` is ``forbidden``."""
        ended = 0
        for conn in list(self.conns):
            identity = conn.identity
            if identity is None or conn.close_code is not None:
                continue
            mine = users is not None and identity.user_id in users
            for name in list(conn.subs):
                channel = self.vocabulary.parse(name)
                if not mine and (kinds is None or channel.kind not in kinds):
                    continue
                try:
                    allowed = await self.policy.may_subscribe(identity.user_id, channel)
                except Exception:
                    log.exception("recheck policy failed", channel=name)
                    continue
                sub = conn.subs.get(name)
                if allowed or sub is None:
                    continue
                del conn.subs[name]
                await self.hub.remove(sub)
                await self._presence_leave(conn, name)
                conn.reply(protocol.Unsubscribed(channel=name, reason=FORBIDDEN))
                ended += 1
        return ended

    def relations_changed(self, changes: Iterable[tuple[int, int, bool]]) -> None:
        """Users ``a`` and ``b`` entered (``True``) or left a block relation: update their sockets' sets now.

        Synchronous on purpose: called as the change's event is delivered, it takes effect before any
        publication that follows it on the broker reaches a socket of this node.
        """
        changes = list(changes)
        for conn in self.conns:
            identity = conn.identity
            if identity is None:
                continue
            uid = identity.user_id
            for a, b, on in changes:
                other = b if uid == a else a if uid == b else None
                if other is None:
                    continue
                if conn.relation_log is not None:
                    conn.relation_log.append((other, on))
                conn.block(other, on)

    async def _load_relations(self, conn: Conn) -> bool:
        """Fill ``conn.blocked`` once per socket (before its first subscription delivers anything)."""
        if conn.relations_loaded or self.relations is None:
            return True
        assert conn.identity is not None
        conn.relation_log = []
        try:
            others = await self.relations(conn.identity.user_id)
        except Exception:
            log.exception("relations lookup failed")
            return False
        finally:
            changes, conn.relation_log = conn.relation_log, None
        blocked = set(others)
        for other, on in changes:
            if on:
                blocked.add(other)
            else:
                blocked.discard(other)
        conn.hide(blocked or NOBODY)
        conn.relations_loaded = True
        return True

    async def close_all(self, code: int = CLOSE_GOING_AWAY) -> None:
        """Close every socket with ``code`` (1001 on shutdown) and wait until they are closed."""
        self.closing = True
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        for conn in list(self.conns):
            conn.kill(code)
        if self._closers:
            await asyncio.wait(list(self._closers), timeout=5)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(BaseException):
                await self._flusher
            self._flusher = None

    # --- one socket ------------------------------------------------------------------------------

    def _origin_allowed(self, socket: Socket) -> bool:
        allowed = self.config.allowed_origins
        origin = _header(socket, b"origin")
        return origin is None or "*" in allowed or origin in allowed

    async def serve(self, socket: Socket) -> None:
        """Run one connection until it closes."""
        await socket.accept()
        conn = Conn(socket, self)
        if self.closing:
            conn.close_code = CLOSE_GOING_AWAY
            await socket.send({"type": "websocket.close", "code": CLOSE_GOING_AWAY, "reason": ""})
            return
        if not self._origin_allowed(socket):
            conn.close_code = CLOSE_ORIGIN
            await socket.send({"type": "websocket.close", "code": CLOSE_ORIGIN, "reason": "origin refused"})
            return
        loop = asyncio.get_running_loop()
        conn.reader = asyncio.current_task()
        self.conns.add(conn)
        try:
            header = _header(socket, b"authorization") or ""
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                await self._auth(conn, protocol.Auth(token=token.strip()), reply=False)
            else:
                conn.timer = loop.call_later(self.config.auth_timeout, conn.kill, CLOSE_UNAUTHORIZED)
            await self._read(conn)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if conn.close_code is None or task is None or task.cancelling() > 1:
                raise
            task.uncancel()  # our closer stopped the reading: the socket is closing
        finally:
            conn.reader = None  # no await since the try: from here on the closer never cancels us
            await self._cleanup(conn)
            if conn.closer is not None:  # return only once the close frame went out
                with suppressed("ws_closer_failed"):
                    await asyncio.shield(conn.closer)

    async def _cleanup(self, conn: Conn) -> None:
        self.conns.discard(conn)
        if conn.timer is not None:
            conn.timer.cancel()
        if conn.close_code is None:
            conn.close_code = 1000
            conn.closed = True
            if conn.writer is not None:
                conn.writer.cancel()
        if conn.identity is not None:
            sessions = self._by_session.get(conn.identity.session_id)
            if sessions is not None:
                sessions.discard(conn)
                if not sessions:
                    del self._by_session[conn.identity.session_id]
        for sub in list(conn.subs.values()):
            with suppressed("hub_remove_failed", channel=sub.channel):
                await self.hub.remove(sub)
        if conn.identity is not None and self.presence is not None:
            with suppressed("presence_leave_failed"):
                for channel in conn.subs:
                    if self.presence.tracks(self.vocabulary.parse(channel)):
                        await self.presence.leave(conn.identity.user_id, channel)
                await self.presence.leave(conn.identity.user_id, None)
        conn.subs.clear()

    async def _read(self, conn: Conn) -> None:
        receive = conn.socket.receive  # type: ignore[union-attr]
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return
            if kind != "websocket.receive":
                continue
            frame = self._check(conn, message.get("text"), message.get("bytes"))
            if conn.close_code is not None:
                return
            if frame is not None:
                await self._command(conn, frame)

    def _check(self, conn: Conn, text: str | None, data: bytes | None) -> protocol.ClientFrame | None:
        """A received message as a command, or ``None`` when it was answered (or closed the socket) here."""
        max_frame = self.config.max_frame
        if text is None:
            if data is not None and len(data) > max_frame:
                conn.kill(CLOSE_TOO_LARGE)
                return None
            conn.reply(protocol.Error(code=BAD_REQUEST, message="frames are JSON text"))
            return None
        if len(text) > max_frame:
            conn.kill(CLOSE_TOO_LARGE)
            return None
        if not conn.allow():
            if conn.violations >= self.config.max_violations:
                conn.kill(CLOSE_RATE_LIMITED)
                return None
            conn.reply(protocol.Error(code=RATE_LIMITED, message="too many commands; slow down"))
            return None
        try:
            return protocol.decode(text)
        except protocol.BadFrame as exc:
            conn.reply(protocol.Error(code=BAD_REQUEST, message=str(exc), id=exc.id))
            return None

    # --- served sockets (channels.wire): callbacks, no task while idle ------------------------------

    def open(self, wire: Wire, origin: str | None, authorization: str | None) -> Conn | None:
        """A served socket completed its handshake: returns its ``Conn``, or ``None`` if it was closed at once."""
        conn = Conn(None, self, wire)
        if self.closing:
            conn.close_code = CLOSE_GOING_AWAY
            wire.send_close(CLOSE_GOING_AWAY)
            return None
        allowed = self.config.allowed_origins
        if origin is not None and "*" not in allowed and origin not in allowed:
            conn.close_code = CLOSE_ORIGIN
            wire.send_close(CLOSE_ORIGIN)
            return None
        self.conns.add(conn)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            self._run(conn, protocol.Auth(token=token.strip()))
        else:
            conn.timer = asyncio.get_running_loop().call_later(self.config.auth_timeout, conn.kill, CLOSE_UNAUTHORIZED)
        return conn

    def receive(self, conn: Conn, text: str | None, data: bytes | None = None) -> None:
        """A served socket's message: answered now when no await is needed, else in order by a command task."""
        if conn.close_code is not None:
            return
        if conn.inbox is not None:  # a command is running: this one waits its turn, and reading pauses
            conn.inbox.append(text if text is not None else data or b"")
            if len(conn.inbox) == 8:
                conn.wire.pause_reading()  # type: ignore[union-attr]
            return
        frame = self._check(conn, text, data)
        if frame is None:
            return
        if isinstance(frame, protocol.Ping):
            conn.reply(protocol.Pong(id=frame.id))
            return
        self._run(conn, frame)

    def _run(self, conn: Conn, frame: protocol.ClientFrame) -> None:
        conn.inbox = deque()
        conn.reader = asyncio.get_running_loop().create_task(self._commands(conn, frame))

    async def _commands(self, conn: Conn, first: protocol.ClientFrame) -> None:
        """Run ``first``, then what arrived meanwhile, one at a time (as a reader would), then end."""
        inbox = conn.inbox
        assert inbox is not None
        try:
            if isinstance(first, protocol.Auth):  # from the handshake's Authorization header
                await self._auth(conn, first, reply=False)
            else:
                await self._command(conn, first)
            while inbox and conn.close_code is None:
                item = inbox.popleft()
                if len(inbox) == 4:
                    conn.wire.resume_reading()  # type: ignore[union-attr]
                frame = self._check(conn, item, None) if isinstance(item, str) else self._check(conn, None, item)
                if frame is not None:
                    await self._command(conn, frame)
        except Exception:
            log.exception("websocket command failed")
            conn.kill(CLOSE_GOING_AWAY)
        finally:
            if conn.reader is asyncio.current_task():
                conn.reader = None
                conn.inbox = None
                if conn.wire is not None and conn.close_code is None:
                    conn.wire.resume_reading()

    def lost(self, conn: Conn) -> None:
        """A served socket's connection is gone: unsubscribe it once its running command (if any) has ended."""
        if conn.close_code is None:
            conn.close_code = 1000
        conn.closed = True
        task = asyncio.get_running_loop().create_task(self._lost(conn))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    async def _lost(self, conn: Conn) -> None:
        task = conn.reader
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self._cleanup(conn)

    async def _command(self, conn: Conn, frame: protocol.ClientFrame) -> None:
        if isinstance(frame, protocol.Ping):
            conn.reply(protocol.Pong(id=frame.id))
        elif isinstance(frame, protocol.Auth):
            await self._auth(conn, frame, reply=True)
        elif conn.identity is None:
            conn.reply(protocol.Error(code=UNAUTHORIZED, message="send auth first", id=frame.id))
        elif isinstance(frame, protocol.Subscribe):
            await self._subscribe(conn, frame)
        elif isinstance(frame, protocol.Unsubscribe):
            sub = conn.subs.pop(frame.channel, None)
            if sub is not None:
                await self.hub.remove(sub)
                await self._presence_leave(conn, frame.channel)
            conn.reply(protocol.Unsubscribed(channel=frame.channel, id=frame.id))
        elif isinstance(frame, protocol.Publish):
            await self._publish(conn, frame)
        elif isinstance(frame, protocol.PresenceQuery):
            await self._presence(conn, frame)

    async def _auth(self, conn: Conn, frame: protocol.Auth, *, reply: bool) -> None:
        try:
            identity = await self.authenticate(frame.token)
        except Unauthenticated as exc:
            conn.reply(protocol.Error(code=UNAUTHORIZED, message=str(exc) or "invalid token", id=frame.id))
            if conn.identity is None:
                conn.kill(CLOSE_UNAUTHORIZED)
            return
        except Exception:  # the session store is down: say so, keep the socket, let the client retry
            log.exception("auth check failed")
            conn.reply(protocol.Error(code=UNAVAILABLE, message="cannot check the token now; retry", id=frame.id))
            return
        if conn.identity is not None and identity.user_id != conn.identity.user_id:
            conn.reply(protocol.Error(code=FORBIDDEN, message="a socket cannot change user", id=frame.id))
            return
        if conn.close_code is not None:
            return
        first = conn.identity is None
        if conn.identity is not None:
            self._by_session.get(conn.identity.session_id, set()).discard(conn)
        conn.identity = identity
        self._by_session.setdefault(identity.session_id, set()).add(conn)
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None
        if identity.expires_at is not None:
            delay = identity.expires_at + self.config.expiry_grace - time.time()
            conn.timer = asyncio.get_running_loop().call_later(max(delay, 0), conn.kill, CLOSE_UNAUTHORIZED)
        if first and self.presence is not None:
            with suppressed("presence_join_failed"):
                await self.presence.join(identity.user_id, None)  # before "ready": online once ready
        if reply or first:
            conn.reply(protocol.Ready(user_id=str(identity.user_id), id=frame.id))

    async def _authorized(self, conn: Conn, name: str, frame_id: int | None) -> names.Channel | None:
        try:
            channel = self.vocabulary.parse(name)
        except names.InvalidChannel as exc:
            conn.reply(protocol.Error(code=BAD_REQUEST, message=str(exc), id=frame_id))
            return None
        assert conn.identity is not None
        try:
            allowed = await self.policy.may_subscribe(conn.identity.user_id, channel)
        except Exception:
            log.exception("subscribe policy failed", channel=name)
            conn.reply(protocol.Error(code=UNAVAILABLE, message="cannot check access now; retry", id=frame_id))
            return None
        if not allowed:
            conn.reply(protocol.Error(code=FORBIDDEN, message=f"not allowed on {name}", id=frame_id))
            return None
        return channel

    async def _subscribe(self, conn: Conn, frame: protocol.Subscribe) -> None:
        # A subscribe to a channel already held is a resume: the authorization is checked again.
        channel = await self._authorized(conn, frame.channel, frame.id)
        old = conn.subs.pop(frame.channel, None)
        if channel is None or conn.close_code is not None:
            if old is not None:  # access was lost since it was granted: the old subscription ends too
                await self.hub.remove(old)
                await self._presence_leave(conn, frame.channel)
            return
        if old is not None:
            await self.hub.remove(old)
            await self._presence_leave(conn, frame.channel)
        elif len(conn.subs) >= self.config.max_subscriptions:
            conn.reply(protocol.Error(code=TOO_MANY_SUBSCRIPTIONS, message="too many subscriptions", id=frame.id))
            return
        if not await self._load_relations(conn):
            conn.reply(protocol.Error(code=UNAVAILABLE, message="cannot check access now; retry", id=frame.id))
            return
        if conn.close_code is not None:
            return
        # The hot path appends straight to the socket's bounded queue, skipping what ``blocked`` hides.
        sub = Sub(conn.out, frame.channel, conn.blocked)
        conn.subs[frame.channel] = sub
        try:
            await self.hub.add(sub)
            history = await self.broker.history(frame.channel, frame.since)
        except BrokerUnavailable:
            conn.subs.pop(frame.channel, None)
            await self.hub.remove(sub)
            conn.reply(protocol.Error(code=UNAVAILABLE, message="realtime store unavailable; retry", id=frame.id))
            return
        if conn.close_code is not None or conn.subs.get(frame.channel) is not sub:
            await self.hub.remove(sub)
            return
        if self.presence is not None and self.presence.tracks(channel):
            with suppressed("presence_join_failed", channel=frame.channel):
                await self.presence.join(conn.identity.user_id, frame.channel)  # type: ignore[union-attr]
        pos = history.position
        hidden = conn.blocked
        pubs = [
            protocol.Event(frame.channel, p.offset, p.epoch, p.event, msgspec.Raw(p.data))
            if p.actor not in hidden
            else protocol.Event(frame.channel, p.offset, p.epoch, HIDDEN, msgspec.Raw(b"{}"))
            for p in history.publications
        ]
        conn.reply(
            protocol.Subscribed(
                channel=frame.channel,
                offset=pos.offset,
                epoch=pos.epoch,
                recovered=history.recovered,
                publications=pubs,
                id=frame.id,
            )
        )
        sub.settle(pos.offset, pos.epoch)
        self.broker.seen(frame.channel, pos)

    async def _publish(self, conn: Conn, frame: protocol.Publish) -> None:
        try:
            channel = self.vocabulary.parse(frame.channel)
        except names.InvalidChannel as exc:
            conn.reply(protocol.Error(code=BAD_REQUEST, message=str(exc), id=frame.id))
            return
        assert conn.identity is not None
        if not names.valid_event(frame.event):
            conn.reply(protocol.Error(code=BAD_REQUEST, message="invalid event name", id=frame.id))
            return
        try:
            out = await self.policy.publish(conn.identity.user_id, channel, frame.event, bytes(frame.data))
        except PublishRefused as exc:
            conn.reply(protocol.Error(code=exc.code, message=exc.message, id=frame.id))
            return
        except Exception:
            log.exception("publish policy failed", channel=frame.channel)
            conn.reply(protocol.Error(code=UNAVAILABLE, message="cannot take the publish now; retry", id=frame.id))
            return
        if out is None:  # accepted; its event reaches the channel through the policy's own path
            conn.reply(protocol.Published(channel=frame.channel, id=frame.id))
            return
        try:
            pos = await self.broker.publish(frame.channel, out.event, out.data, actor=conn.identity.user_id)
        except BrokerUnavailable:
            conn.reply(protocol.Error(code=UNAVAILABLE, message="realtime store unavailable; retry", id=frame.id))
            return
        conn.reply(protocol.Published(channel=frame.channel, offset=pos.offset, epoch=pos.epoch, id=frame.id))

    async def _presence(self, conn: Conn, frame: protocol.PresenceQuery) -> None:
        channel = await self._authorized(conn, frame.channel, frame.id)
        if channel is None:
            return
        if self.presence is None or not self.presence.tracks(channel):
            conn.reply(protocol.Error(code=BAD_REQUEST, message="no presence on this channel", id=frame.id))
            return
        users = await self.presence.members(frame.channel)
        conn.reply(protocol.Presence(channel=frame.channel, count=len(users), users=users, id=frame.id))

    async def _presence_leave(self, conn: Conn, channel: str) -> None:
        if self.presence is None or conn.identity is None:
            return
        with suppressed("presence_leave_failed", channel=channel):
            if self.presence.tracks(self.vocabulary.parse(channel)):
                await self.presence.leave(conn.identity.user_id, channel)
