"""uvicorn's websocket protocol, with the gateway's path served in callbacks (``--ws channels.wire:GatewayProtocol``).

Under plain ASGI every socket is a task suspended in the app, an ``asyncio.Queue`` of received messages,
and one ``send`` coroutine per frame per socket, each framing (and copying) the same text again. Here a
socket on the gateway's path (the one ``serve_directly`` registered) is handed to the gateway after its
handshake: received frames are passed to ``Gateway.receive`` from ``data_received``, and the gateway writes
the frames the hub built once per event straight to the transport. An idle socket is this object, its
``websockets`` parser, the transport and the gateway's ``Conn``: no task, no queue, no future.

Backpressure: the gateway reads ``write``'s answer (the transport's unsent bytes) and closes a socket past
its bound with 4008. Every other path (other websockets) is uvicorn's own ``websockets-sansio`` behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections.abc import Callable
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import Protocol
from websockets.server import ServerProtocol

from channels.gateway import Conn, Gateway

_LOGGER = logging.getLogger("uvicorn.error")
"""The logger uvicorn gives the ``websockets`` protocol (one object, shared by every socket)."""


def _route(app: Any) -> tuple[str, Callable[[], Gateway | None]] | None:
    """The ``(path, gateway)`` that ``serve_directly`` left on the app, looking through uvicorn's middleware."""
    for _ in range(8):
        route = getattr(app, "direct_route", None)
        if route is not None:
            return route  # type: ignore[no-any-return]
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class GatewayProtocol(asyncio.Protocol):
    """uvicorn's websocket protocol for the gateway's path; ``websockets-sansio`` for any other (see the module
    docstring).

    uvicorn builds this object for every upgrade before the path is known, then hands it exactly the
    handshake request in one ``data_received``. On the gateway's path it serves the socket itself with
    ``__slots__`` (uvicorn's protocol keeps ~40 attributes, past CPython's 30-key shared-dict limit, so
    each instance carried a ~1.6 KiB ``__dict__``) and without the ASGI side (queue, event, scope, task)
    it never uses; on any other path it builds uvicorn's ``WebSocketsSansIOProtocol`` and forwards to it.
    """

    __slots__ = (
        "app_state",
        "close_sent",
        "close_timer",
        "config",
        "conn",
        "disconnected",
        "frames",
        "gateway",
        "gw",
        "inner",
        "loop",
        "pending_ping",
        "ping_sent_at",
        "read_paused",
        "server_state",
        "text",
        "transport",
    )

    CLOSE_TIMEOUT = 10.0
    """Seconds a close frame waits for the peer's echo before the connection is dropped (uvicorn's value)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop or asyncio.get_event_loop()
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.inner: WebSocketsSansIOProtocol | None = None
        self.conn: ServerProtocol | None = None
        self.gateway: Gateway | None = None
        self.gw: Conn | None = None
        self.close_sent = False
        self.disconnected = False
        self.read_paused = False
        self.close_timer: asyncio.TimerHandle | None = None
        self.pending_ping: bytes | None = None
        self.ping_sent_at = 0.0
        self.frames: list[bytes] | None = None
        self.text = False

    # --- asyncio.Protocol: forwarded to uvicorn's protocol off the gateway's path ---------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        # The HTTP protocol that parsed the upgrade (still the transport's until uvicorn sets this one) and
        # its httptools parser refer to each other, a cycle only the collector frees: ~1 KiB per handshake
        # left waiting for it (hundreds at a time under server.gcpolicy's threshold). Nothing parses on
        # that connection again, so the parser is let go here and reference counting frees both.
        http = transport.get_protocol()
        if http is not self and getattr(http, "parser", None) is not None:
            http.parser = None  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)
            return
        conn = self.conn
        if conn is None:  # the handshake request, whole
            gateway = self._gateway_for(data)
            if gateway is None:
                self.inner = WebSocketsSansIOProtocol(self.config, self.server_state, self.app_state, self.loop)
                self.inner.connection_made(self.transport)
                self.inner.data_received(data)
                return
            self.gateway = gateway
            self.server_state.connections.add(self)  # type: ignore[arg-type]  # shutdown() on server exit
            conn = self.conn = ServerProtocol(max_size=self.config.ws_max_size, logger=_LOGGER)
        conn.receive_data(data)
        if conn.parser_exc is not None:
            self.handle_parser_exception()
            return
        for event in conn.events_received():
            if isinstance(event, Request):
                self.handle_connect(event)
            elif not isinstance(event, Frame):
                continue
            elif event.opcode is Opcode.TEXT or event.opcode is Opcode.BINARY:
                self.text = event.opcode is Opcode.TEXT
                self.frames = [bytes(event.data)]
                if event.fin:
                    self.deliver()
            elif event.opcode is Opcode.CONT:
                if self.frames is not None:
                    self.frames.append(bytes(event.data))
                if event.fin:
                    self.deliver()
            elif event.opcode is Opcode.PING:  # websockets queued the pong
                self.transport.write(b"".join(conn.data_to_send()))
            elif event.opcode is Opcode.PONG:
                self.handle_pong(event)
            elif event.opcode is Opcode.CLOSE:
                self.handle_close()

    def eof_received(self) -> None:
        if self.inner is not None:
            self.inner.eof_received()

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inner is not None:
            self.inner.connection_lost(exc)
            return
        self.server_state.connections.discard(self)
        self.disconnected = True
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        if self.gw is not None and self.gateway is not None:
            self.gateway.lost(self.gw)
            self.gw = None
        if exc is None:
            self.transport.close()

    def shutdown(self) -> None:
        """uvicorn is stopping: close with 1012 (uvicorn calls this on every protocol in its connections)."""
        if not self.close_sent and self.conn is not None:
            self.conn.send_close(1012)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        self.transport.close()

    # --- the gateway's socket -------------------------------------------------------------------------

    def _gateway_for(self, request: bytes) -> Gateway | None:
        """The gateway, when ``request`` is a handshake for its path (and it is running)."""
        route = _route(self.config.loaded_app)
        if route is None:
            return None
        parts = request.split(b" ", 2)
        if len(parts) < 3 or parts[1].partition(b"?")[0].decode("latin-1") != route[0]:
            return None
        return route[1]()

    def handle_connect(self, event: Request) -> None:
        conn, gateway = self.conn, self.gateway
        assert conn is not None and gateway is not None
        response = conn.accept(event)
        if response.status_code != 101:
            self.close_sent = True
            conn.send_response(response)
            self.transport.write(b"".join(conn.data_to_send()))
            self.transport.close()
            return
        del response.headers["Date"]
        response.headers.update(
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.server_state.default_headers]
        )
        conn.send_response(response)
        self.transport.write(b"".join(conn.data_to_send()))
        # ``ServerProtocol.parse`` parses the handshake, then frames (``yield from super().parse()``), so its
        # generator frame keeps the handshake ``Request`` (path, every header) alive as long as the socket:
        # ~2 KiB per idle socket. The frame parser alone, started where that one is now (between frames,
        # nothing buffered: uvicorn hands over exactly the request), holds none of it.
        if not conn.reader.buffer:
            conn.parser = Protocol.parse(conn)
            next(conn.parser)
        interval = self.config.ws_ping_interval
        if interval:
            gateway.keepalive(interval)
        headers = event.headers
        self.gw = gateway.open(self, headers.get("Origin"), headers.get("Authorization"))

    def deliver(self) -> None:
        """A whole message arrived: to the gateway, as text (UTF-8 checked) or bytes."""
        frames = self.frames or []
        self.frames = None
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        if self.close_sent or self.gw is None or self.gateway is None:
            return
        if self.text:
            try:
                text = data.decode()
            except UnicodeDecodeError:
                assert self.conn is not None
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
            self.gateway.receive(self.gw, text)
        else:
            self.gateway.receive(self.gw, None, data)

    def handle_parser_exception(self) -> None:
        assert self.conn is not None
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()

    def handle_close(self) -> None:
        if self.close_sent:  # the peer echoed our close frame: the closing handshake is complete
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = None
                self.transport.close()
            return
        if not self.transport.is_closing():  # the peer closes first: answer, and let connection_lost clean up
            assert self.conn is not None
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            self.transport.close()

    # --- keepalive: uvicorn's pings (every ws_ping_interval; no pong within ws_ping_timeout closes 1011),
    # ticked by the gateway for all its served sockets at once (``Gateway.keepalive``), not a timer per socket

    def keepalive(self, now: float) -> None:
        if self.close_sent or self.disconnected or self.conn is None or self.transport.is_closing():
            return
        timeout = self.config.ws_ping_timeout
        if self.pending_ping is not None and timeout is not None:
            if now - self.ping_sent_at >= timeout - 0.01:  # the tick may land a clock grain early
                self.keepalive_timeout()
            return
        self.pending_ping = struct.pack("!I", random.getrandbits(32))
        self.ping_sent_at = now
        self.conn.send_ping(self.pending_ping)
        self.transport.write(b"".join(self.conn.data_to_send()))

    def handle_pong(self, event: Frame) -> None:
        if self.pending_ping is not None and bytes(event.data) == self.pending_ping:
            self.pending_ping = None  # answered; unsolicited and stale pongs are ignored

    def keepalive_timeout(self) -> None:
        self.pending_ping = None
        assert self.conn is not None
        self.conn.fail(1011, "keepalive ping timeout")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()

    # --- the gateway's Wire -------------------------------------------------------------------------

    def write(self, data: bytes) -> int:
        if self.close_sent or self.disconnected:
            return 0
        self.transport.write(data)
        return self.transport.get_write_buffer_size()

    def send_close(self, code: int) -> None:
        if self.close_sent or self.disconnected or self.conn is None:
            return
        self.conn.send_close(code, "")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # No echo within the timeout (a peer that stopped reading never sends one): drop the connection.
        self.close_timer = self.loop.call_later(self.CLOSE_TIMEOUT, self.transport.abort)

    def pause_reading(self) -> None:
        if not self.read_paused and not self.disconnected:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and not self.disconnected:
            self.read_paused = False
            self.transport.resume_reading()
