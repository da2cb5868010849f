"""A TCP proxy a test can cut, stall and restore: one node's own path to Redis or PostgreSQL.

Real sockets both ways (no fake servers): ``cut()`` closes every proxied connection and refuses new ones until
``restore()``, as a network partition between that node and Redis would. ``stall()`` is a dead link: the
connections open now stay open on both ends and silently carry nothing more (a NAT or firewall that dropped
their state), while new connections work. The upstream is a ``host, port`` or a Unix socket path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class CuttableProxy:
    def __init__(self, host: str, port: int | None = None) -> None:
        self.upstream = (host, port)
        self.open = True
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._stalled: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: tuple[object, ...]) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if pair in self._stalled:
                    continue  # a dead link: read (so the sender is never blocked) and drop
                writer.write(data)
                await writer.drain()
        if pair not in self._stalled:  # a dead link carries no close either: the other end stays open
            writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        host, port = self.upstream
        try:
            if port is None:
                up_reader, up_writer = await asyncio.open_unix_connection(host)
            else:
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pump(reader, up_writer, pair), self._pump(up_reader, writer, pair))
        finally:
            self._pairs.discard(pair)
            self._stalled.discard(pair)

    def cut(self) -> None:
        """Close every proxied connection now and refuse new ones."""
        self.open = False
        for client, upstream in list(self._pairs):
            client.close()
            upstream.close()

    def stall(self) -> None:
        """Every connection open now goes dead (both ends stay open, nothing more arrives); new ones work."""
        self._stalled |= self._pairs

    def restore(self) -> None:
        self.open = True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CuttableProxy]:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self.cut()
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
