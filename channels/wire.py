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

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import Protocol

from channels.gateway import Conn, Gateway


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


class GatewayProtocol(WebSocketsSansIOProtocol):
    """``websockets-sansio`` whose gateway sockets skip ASGI (see the module docstring)."""

    gw: Conn | None = None
    gateway: Gateway | None = None

    def handle_connect(self, event: Request) -> None:
        route = _route(self.app)
        gateway = route[1]() if route is not None and event.path.partition("?")[0] == route[0] else None
        if gateway is None:
            super().handle_connect(event)
            return
        response = self.conn.accept(event)
        self.handshake_initiated = True
        self.handshake_complete = True
        if response.status_code != 101:
            self.close_sent = True
            self.conn.send_response(response)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        del response.headers["Date"]
        response.headers.update(
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.default_headers]
        )
        self.conn.send_response(response)
        self.transport.write(b"".join(self.conn.data_to_send()))
        # ``ServerProtocol.parse`` parses the handshake, then frames (``yield from super().parse()``), so its
        # generator frame keeps the handshake ``Request`` (path, every header) alive as long as the socket:
        # ~2 KiB per idle socket. The frame parser alone, started where that one is now (between frames,
        # nothing buffered: uvicorn hands over exactly the request), holds none of it.
        if not self.conn.reader.buffer:
            self.conn.parser = Protocol.parse(self.conn)
            next(self.conn.parser)
        # The ASGI side of the connection is never used: let it go. (Assigned, not deleted: a ``del`` would
        # turn this instance's key-sharing ``__dict__`` into a dict of its own, larger than what it frees.)
        self.queue = self.writable = None  # type: ignore[assignment]
        self.start_keepalive()
        self.gateway = gateway
        headers = event.headers
        self.gw = gateway.open(self, headers.get("Origin"), headers.get("Authorization"))

    def send_receive_event_to_app(self) -> None:
        if self.gateway is None:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent or self.gw is None:
            return
        if self.curr_msg_data_type == "text":
            try:
                text = data.decode()
            except UnicodeDecodeError:
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
            self.gateway.receive(self.gw, text)
        else:
            self.gateway.receive(self.gw, None, data)

    def handle_parser_exception(self) -> None:
        if self.gateway is None:
            super().handle_parser_exception()
            return
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()

    def handle_close(self, event: Any) -> None:
        if self.gateway is None or self.close_sent:
            super().handle_close(event)
            return
        if not self.transport.is_closing():  # the peer closes first: answer, and let connection_lost clean up
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            self.transport.close()

    def pause_writing(self) -> None:
        if self.gateway is None:
            super().pause_writing()

    def resume_writing(self) -> None:
        if self.gateway is None:
            super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.gateway is None:
            super().connection_lost(exc)
            return
        self.stop_keepalive()
        self.connections.discard(self)
        self.handshake_complete = True
        self.disconnected = True
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        if self.gw is not None:
            self.gateway.lost(self.gw)
            self.gw = None
        if exc is None:
            self.transport.close()

    def shutdown(self) -> None:
        if self.gateway is None:
            super().shutdown()
            return
        self.stop_keepalive()
        if not self.close_sent:
            self.conn.send_close(1012)
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
        if self.close_sent or self.disconnected:
            return
        self.conn.send_close(code, "")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # No echo within the timeout (a peer that stopped reading never sends one): drop the connection.
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    def pause_reading(self) -> None:
        if not self.read_paused and not self.disconnected:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and not self.disconnected:
            self.read_paused = False
            self.transport.resume_reading()
