"""The gateway as served (``channels.wire.GatewayProtocol`` under uvicorn): frames written straight to each
socket's transport, commands answered in order, and a socket that stops reading closed with 4008."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.e2e.nodes import Node
from tests.e2e.test_realtime_nodes import call, login

QUEUE_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def node(services: dict[str, str], database: None) -> Iterator[Node]:
    env = {
        "DATABASE_URL": services["database_url"],
        "REDIS_URL": services["redis_url"],
        "REALTIME_QUEUE_CHARS": str(QUEUE_BYTES),
    }
    n = Node(env)
    try:
        yield n.start()
    finally:
        n.stop()


async def test_pipelined_commands_are_answered_in_order(node, clean_db, redis_client):
    async with httpx.AsyncClient(base_url=node.url) as http:
        uid, token = await login(http, "pia")
    async with websockets.connect(node.ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        frames = [
            {"type": "subscribe", "id": 1, "channel": f"user:{uid}"},
            {"type": "ping", "id": 2},
            {"type": "nonsense", "id": 3},
            {"type": "subscribe", "id": 4, "channel": "user:999999"},
            {"type": "unsubscribe", "id": 5, "channel": f"user:{uid}"},
            {"type": "ping", "id": 6},
        ]
        for frame in frames:  # all at once: the first subscribe is still awaiting the broker when the rest arrive
            await ws.send(json.dumps(frame))
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready" and ready["user_id"] == uid
        replies = [json.loads(await ws.recv()) for _ in frames]
        assert [(r["type"], r.get("id")) for r in replies] == [
            ("subscribed", 1),
            ("pong", 2),
            ("error", 3),
            ("error", 4),
            ("unsubscribed", 5),
            ("pong", 6),
        ]
        assert replies[2]["code"] == "bad_request" and replies[3]["code"] == "forbidden"


def _raw_socket(port: int, token: str) -> socket.socket:
    """A websocket client that reads nothing after its handshake, with a tiny receive buffer."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    return s


def _subscribe_frame(channel: str) -> bytes:
    payload = json.dumps({"type": "subscribe", "id": 1, "channel": channel}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + mask + masked


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each whole server frame in ``data`` (after the handshake response)."""
    data = data[data.index(b"\r\n\r\n") + 4 :]
    out = []
    while len(data) >= 2:
        n, off = data[1] & 0x7F, 2
        if n == 126:
            n, off = struct.unpack("!H", data[2:4])[0], 4
        elif n == 127:
            n, off = struct.unpack("!Q", data[2:10])[0], 10
        if len(data) < off + n:
            break
        out.append((data[0] & 0x0F, data[off : off + n]))
        data = data[off + n :]
    return out


async def test_a_socket_that_stops_reading_is_closed_4008_while_the_others_get_every_event(
    node, clean_db, redis_client
):
    async with httpx.AsyncClient(base_url=node.url) as http:
        uid, token = await login(http, "sam")
        channel = f"user:{uid}"
        slow = _raw_socket(node.port, token)
        greeting = b""
        while b'"ready"' not in greeting:  # a client sends frames only once the handshake is answered
            greeting += await asyncio.to_thread(slow.recv, 4096)
        slow.sendall(_subscribe_frame(channel))
        while b'"subscribed"' not in greeting:
            greeting += await asyncio.to_thread(slow.recv, 4096)
        fast = []
        for _ in range(5):
            ws = await websockets.connect(node.ws_url, additional_headers={"Authorization": f"Bearer {token}"})
            assert json.loads(await ws.recv())["type"] == "ready"
            assert (await call(ws, {"type": "subscribe", "id": 2, "channel": channel}))["type"] == "subscribed"
            fast.append(ws)

        async def read_all(ws: websockets.ClientConnection, count: int) -> list[int]:
            return [json.loads(await ws.recv())["data"]["n"] for _ in range(count)]

        count = 300
        readers = [asyncio.create_task(read_all(ws, count)) for ws in fast]
        # ~7 MiB in all: past what the kernel buffers for the stalled socket (tcp_wmem's 4 MiB at most) plus
        # its 64 KiB bound in the server.
        pad = "x" * (24 * 1024)
        key = {"X-API-Key": os.environ["REALTIME_API_KEY"]}
        for n in range(count):
            body = {"channel": channel, "event": "notification.created", "data": {"n": n, "pad": pad}}
            assert (await http.post("/api/v1/realtime/publish", json=body, headers=key)).status_code == 200
        got = await asyncio.wait_for(asyncio.gather(*readers), 30)
        assert got == [list(range(count))] * len(fast)
        for ws in fast:
            await ws.close()

    def drain() -> bytes:
        """Everything the server wrote, up to its close frame (4008, no reason) or the end of the stream."""
        slow.settimeout(5)
        data = b""
        while not data.endswith(b"\x88\x02\x0f\xa8") and (chunk := slow.recv(65536)):
            data += chunk
        return data

    data = await asyncio.to_thread(drain)
    slow.close()
    frames = _frames(greeting + data)
    events = [json.loads(p)["data"]["n"] for op, p in frames if op == 1 and json.loads(p)["type"] == "event"]
    assert events == list(range(len(events))) and len(events) < count  # in order, then cut off
    assert frames[-1][0] == 8 and struct.unpack("!H", frames[-1][1][:2])[0] == 4008
