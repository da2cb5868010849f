"""The live-room load generator: ``python -m bench.live_room_load SPEC.json`` prints one JSON result.

Viewers (most only count bytes, ``probes`` parse frames and time chat lines) subscribe to one room;
chat senders publish ``chat.message`` at ``chat_rate`` in total, reaction senders ``reaction`` at
``reaction_rate``. Two measured phases: chat alone, then chat with reactions; the difference in the
server's CPU is what reactions cost. A chat line carries its send time (host monotonic clock).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

from bench.stats import percentile
from bench.wire import encode_frame

SENT = re.compile(rb"t=([0-9]+\.[0-9]+)")


class Client(asyncio.Protocol):
    """One websocket; after setup (auth, optional subscribe) it counts bytes, or as a probe parses frames."""

    def __init__(self, spec: dict[str, Any], token: str, subscribe: bool, probe: bool, sink: Stats) -> None:
        self.spec, self.token, self.subscribe, self.probe, self.sink = spec, token, subscribe, probe, sink
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.upgraded, self.buf, self.stage = False, b"", 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(  # type: ignore[attr-defined]
            f"GET {self.spec['ws_path']} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.sink.closed += 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(str(exc)))

    def send(self, frame: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(encode_frame(json.dumps(frame).encode()))

    def data_received(self, data: bytes) -> None:
        if not self.upgraded:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            data, self.buf, self.upgraded = self.buf[end + 4 :], b"", True
            self.send({"type": "auth", "id": 1, "token": self.token})
        if self.ready.done() and not self.probe:
            self.sink.bytes += len(data)
            return
        buf = self.buf + data
        i = 0
        while len(buf) - i >= 2:
            size, head = buf[i + 1] & 0x7F, 2
            if size == 126:
                if len(buf) - i < 4:
                    break
                size, head = int.from_bytes(buf[i + 2 : i + 4], "big"), 4
            elif size == 127:
                if len(buf) - i < 10:
                    break
                size, head = int.from_bytes(buf[i + 2 : i + 10], "big"), 10
            if len(buf) - i < head + size:
                break
            self.frame(buf[i + head : i + head + size])
            i += head + size
        self.buf = buf[i:]

    def frame(self, payload: bytes) -> None:
        if not self.ready.done():
            if b'"error"' in payload:
                self.ready.set_exception(RuntimeError(payload[:200].decode(errors="replace")))
            elif b'"ready"' in payload and self.subscribe:
                self.send({"type": "subscribe", "id": 2, "channel": self.spec["channel"]})
            elif b'"ready"' in payload or b'"subscribed"' in payload:
                self.ready.set_result(None)
            return
        self.sink.frame(payload)


class Stats:
    def __init__(self) -> None:
        self.bytes = 0
        self.closed = 0
        self.latencies: list[float] = []
        self.reactions_events = 0
        self.reactions_total = 0
        self.errors = 0

    def frame(self, payload: bytes) -> None:
        if b'"chat.message"' in payload:
            m = SENT.search(payload)
            if m:
                self.latencies.append(time.monotonic() - float(m.group(1)))
        elif b'"reactions"' in payload:
            self.reactions_events += 1
            counts = json.loads(payload)["data"]["counts"]
            self.reactions_total += sum(counts.values())
        elif b'"error"' in payload:
            self.errors += 1


def server_cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


async def connect(spec: dict[str, Any], n: int, subscribe: bool, probes: int, sink: Stats) -> list[Client]:
    loop = asyncio.get_running_loop()
    tokens = spec["tokens"]
    out: list[Client] = []
    for start in range(0, n, 100):

        async def one(i: int) -> Client:
            _, c = await loop.create_connection(
                lambda: Client(spec, tokens[i % len(tokens)], subscribe, i < probes, sink), spec["host"], spec["port"]
            )
            await asyncio.wait_for(c.ready, 30)
            return c

        out += await asyncio.gather(*(one(i) for i in range(start, min(start + 100, n))))
    return out


async def pace(clients: list[Client], rate: float, seconds: float, make: Any) -> int:
    """Send ``rate`` frames/s in total, round robin over ``clients``, for ``seconds``; returns how many."""
    if rate <= 0:
        await asyncio.sleep(seconds)
        return 0
    start, sent = time.monotonic(), 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) + 1
        while sent < due:
            clients[sent % len(clients)].send(make(sent))
            sent += 1
        await asyncio.sleep(0.005)
    return sent


async def phase(
    spec: dict[str, Any], chat: list[Client], react: list[Client], probes: Stats, reactions: bool
) -> dict[str, Any]:
    seconds, channel = spec["seconds"], spec["channel"]
    probes.latencies.clear()
    probes.reactions_events = probes.reactions_total = 0

    def chat_frame(n: int) -> dict[str, Any]:
        return {
            "type": "publish",
            "channel": channel,
            "event": "chat.message",
            "data": {"text": f"t={time.monotonic():.6f} n={n}"},
        }

    def reaction_frame(n: int) -> dict[str, Any]:
        return {
            "type": "publish",
            "channel": channel,
            "event": "reaction",
            "data": {"kind": ("fire", "clap", "love")[n % 3]},
        }

    cpu0, wall0 = server_cpu(spec["server_pid"]), time.monotonic()
    sent_chat, sent_reactions = await asyncio.gather(
        pace(chat, spec["chat_rate"], seconds, chat_frame),
        pace(react, spec["reaction_rate"] if reactions else 0, seconds, reaction_frame),
    )
    cpu1, wall1 = server_cpu(spec["server_pid"]), time.monotonic()
    # Late lines count too (a p99 over only the lines that made it by a fixed drain would flatter a slow
    # server): wait until every probe has every line, up to ``drain_seconds``.
    expected = sent_chat * spec["probes"]
    drain_until = time.monotonic() + spec.get("drain_seconds", 10.0)
    while len(probes.latencies) < expected and time.monotonic() < drain_until:  # noqa: ASYNC110 - a bounded poll
        await asyncio.sleep(0.1)
    lat = sorted(probes.latencies)
    return {
        "chat_sent": sent_chat,
        "reactions_sent": sent_reactions,
        "chat_delivered_to_probes": f"{len(lat)}/{expected}",
        "p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
        "p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
        "server_core_share": round((cpu1 - cpu0) / (wall1 - wall0), 3),
        "reactions_events_per_probe": probes.reactions_events / max(1, spec["probes"]),
        "reactions_counted_per_probe": probes.reactions_total / max(1, spec["probes"]),
    }


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    viewers_sink, probes_sink, senders_sink = Stats(), Stats(), Stats()
    probes = await connect(spec, spec["probes"], True, spec["probes"], probes_sink)
    viewers = await connect(spec, spec["viewers"] - spec["probes"], True, 0, viewers_sink)
    chat = await connect(spec, spec["chat_senders"], False, spec["chat_senders"], senders_sink)
    react = await connect(spec, spec["reaction_senders"], False, spec["reaction_senders"], senders_sink)
    await asyncio.sleep(spec.get("settle_seconds", 2.0))
    result: dict[str, Any] = {"viewers": len(probes) + len(viewers)}
    result["chat_only"] = await phase(spec, chat, react, probes_sink, reactions=False)
    result["chat_and_reactions"] = await phase(spec, chat, react, probes_sink, reactions=True)
    a, b = result["chat_only"]["server_core_share"], result["chat_and_reactions"]["server_core_share"]
    result["reactions_core_share"] = round(b - a, 3)
    result["sender_errors"] = senders_sink.errors
    result["closed_sockets"] = viewers_sink.closed + probes_sink.closed
    result["viewer_bytes"] = viewers_sink.bytes
    return result


if __name__ == "__main__":
    spec = json.loads(open(sys.argv[1]).read())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(main(spec))))
