"""Minimal raw websocket and HTTP/1.1 clients: cheap enough that 1,000 sockets fit on one core."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from collections.abc import Callable, Sequence

TS = re.compile(rb'"ts":\s*([0-9]+\.[0-9]+)')
#: Frames shorter than this are protocol chatter (engine.io pings, acks), not deliveries.
MIN_DELIVERY_BYTES = 40


def encode_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame (RFC 6455 5.3: clients must mask)."""
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    if not n:
        return header + mask
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return header + mask + masked


class Tally:
    """Counters shared by every socket of the run, and the probes' latency list of the current step."""

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.latencies: list[float] = []
        self.last_frame = b""
        # When a list, probes record arrival times here instead of parsing a timestamp (end to end runs).
        self.arrivals: list[float] | None = None


class WSClient(asyncio.Protocol):
    """One websocket: runs a setup script (send / expect), then counts (or, for a probe, times) frames."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        script: Sequence[tuple[str, str]],
        tally: Tally,
        probe: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.request = self._handshake(host, port, path, headers or {})
        self.script = list(script)
        self.tally = tally
        self.probe = probe
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.transport: asyncio.Transport | None = None
        self._upgraded = False
        self._buf = b""

    @staticmethod
    def _handshake(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during setup: {exc}"))

    def send_text(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        assert self.transport is not None
        self.transport.write(encode_frame(data))

    def _advance(self) -> None:
        while self.script and self.script[0][0] == "send":
            self.send_text(self.script.pop(0)[1])
        if not self.script and not self.ready.done():
            self.ready.set_result(None)

    def _setup_frame(self, payload: bytes) -> None:
        want = self.script[0][1].encode()
        if want in payload:
            self.script.pop(0)
            self._advance()
        elif b'"error"' in payload and not self.ready.done():
            self.ready.set_exception(RuntimeError(payload[:300].decode(errors="replace")))

    def data_received(self, data: bytes) -> None:
        if not self._upgraded:
            self._buf += data
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self._buf[: self._buf.find(b"\r\n")]
            if b" 101 " not in status + b" ":
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(self._buf[:300].decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            data = self._buf[end + 4 :]
            self._buf = b""
            self._upgraded = True
            self._advance()
            if not data:
                return
        buf = self._buf + data if self._buf else data
        n = len(buf)
        i = 0
        tally = self.tally
        now = 0.0
        while n - i >= 2:
            b1 = buf[i + 1] & 0x7F
            hl = 2
            if b1 == 126:
                if n - i < 4:
                    break
                b1 = int.from_bytes(buf[i + 2 : i + 4], "big")
                hl = 4
            elif b1 == 127:
                if n - i < 10:
                    break
                b1 = int.from_bytes(buf[i + 2 : i + 10], "big")
                hl = 10
            end = i + hl + b1
            if end > n:
                break
            op = buf[i] & 0x0F
            if op <= 2:
                if self.script:
                    self._setup_frame(buf[i + hl : end])
                elif b1 >= MIN_DELIVERY_BYTES:
                    tally.frames += 1
                    tally.bytes += b1
                    if self.probe:
                        if not now:
                            now = time.monotonic()
                        payload = buf[i + hl : end]
                        if tally.arrivals is not None:
                            tally.arrivals.append(now)
                        else:
                            match = TS.search(payload)
                            if match:
                                tally.latencies.append((now - float(match.group(1))) * 1000.0)
                        tally.last_frame = payload
            elif op == 9:  # ping -> pong with the same payload
                assert self.transport is not None
                self.transport.write(encode_frame(buf[i + hl : end], opcode=0xA))
            elif op == 8:
                self.closed = True
            i = end
        self._buf = buf[i:] if i < n else b""

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> HTTPConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        if "content-length" in fields:
            data = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            data = b"".join(chunks)
        else:
            data = b""
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, data

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class HTTPPool:
    """Up to ``size`` keep-alive connections; a request waits for a free one (the open loop still times it)."""

    def __init__(self, host: str, port: int, size: int = 32) -> None:
        self.host, self.port = host, port
        self._idle: list[HTTPConnection] = []
        self._slots = asyncio.Semaphore(size)
        #: keep-alive connections the server closed under us (a request found them dead); a server that
        #: drops its publishers shows up here even though the request is retried on a fresh connection.
        self.dropped = 0

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        async with self._slots:
            while self._idle:
                conn = self._idle.pop()
                try:
                    result = await conn.request(method, path, body, headers)
                except (asyncio.IncompleteReadError, ConnectionError):
                    # The server closed this keep-alive connection; count it, try another.
                    self.dropped += 1
                    conn.close()
                    continue
                except BaseException:
                    conn.close()
                    raise
                return self._keep(conn, result)
            conn = await HTTPConnection.open(self.host, self.port)
            try:
                result = await conn.request(method, path, body, headers)
            except BaseException:
                conn.close()
                raise
            return self._keep(conn, result)

    def _keep(self, conn: HTTPConnection, result: tuple[int, bytes]) -> tuple[int, bytes]:
        if conn.usable:
            self._idle.append(conn)
        return result

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()


async def open_loop(rate: float, seconds: float, fire: Callable[[int, float], object]) -> list[asyncio.Task[object]]:
    """Start ``fire(i, scheduled_at)`` at a fixed rate for ``seconds``, never waiting on earlier calls.

    Latency measured from ``scheduled_at`` (not from when the call actually went out) includes any
    queueing, so a slow server cannot hide its stalls (no coordinated omission).
    """
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * seconds))
    start = time.monotonic()
    tasks = []
    for i in range(count):
        at = start + i / rate
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(fire(i, at)))  # type: ignore[arg-type]
    return tasks


def auth_subscribe_script(token: str, channel: str) -> list[tuple[str, str]]:
    """A socket's script in the contract's protocol: auth, wait for ``ready``, subscribe, wait for ``subscribed``."""
    return [
        ("send", json.dumps({"type": "auth", "id": 1, "token": token})),
        ("expect", '"ready"'),
        ("send", json.dumps({"type": "subscribe", "id": 2, "channel": channel})),
        ("expect", '"subscribed"'),
    ]
