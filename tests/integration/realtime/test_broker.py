"""Broker guarantees, on the memory and the Redis broker alike."""

from __future__ import annotations

import asyncio

from channels.broker import HistoryPolicy
from channels.hub import Hub, Sub
from channels.protocol import Position


async def test_offsets_rise_by_one_without_gaps_under_concurrent_publishers(broker):
    async def publisher(n: int) -> list[int]:
        return [(await broker.publish("timeline:public", "post.created", b'{"n":%d}' % n)).offset for _ in range(50)]

    results = await asyncio.gather(*(publisher(n) for n in range(8)))
    offsets = sorted(o for r in results for o in r)
    assert offsets == list(range(1, 401))
    history = await broker.history("timeline:public", Position(0, (await broker.position("timeline:public")).epoch))
    assert history.recovered and [p.offset for p in history.publications] == list(range(1, 401))


async def test_resume_within_history_returns_what_was_missed_in_order(broker):
    first = await broker.publish("user:7", "notification.created", b'{"id":"1"}')
    for n in range(2, 6):
        await broker.publish("user:7", "notification.created", b'{"id":"%d"}' % n)
    history = await broker.history("user:7", first)
    assert history.recovered is True
    assert [p.data for p in history.publications] == [b'{"id":"%d"}' % n for n in range(2, 6)]
    assert history.position == Position(first.offset + 4, first.epoch)
    caught_up = await broker.history("user:7", history.position)
    assert caught_up.recovered is True and caught_up.publications == []


async def test_resume_beyond_history_is_not_recovered(broker):
    broker.history_policy["post"] = HistoryPolicy(size=3, ttl=600)
    first = await broker.publish("post:9", "post.stats", b"{}")
    for _ in range(5):
        last = await broker.publish("post:9", "post.stats", b"{}")
    history = await broker.history("post:9", first)
    assert history.recovered is False and history.publications == []
    assert history.position == last
    recent = await broker.history("post:9", Position(last.offset - 3, last.epoch))
    assert recent.recovered is True and len(recent.publications) == 3


async def test_lost_history_changes_the_epoch(broker, redis_client):
    before = await broker.publish("hashtag:cats", "post.created", b"{}")
    if hasattr(broker, "forget"):
        broker.forget("hashtag:cats")
    else:
        await redis_client.flushdb()
    after = await broker.publish("hashtag:cats", "post.created", b"{}")
    assert after.epoch != before.epoch and after.offset == 1
    history = await broker.history("hashtag:cats", before)
    assert history.recovered is False and history.position == after


async def test_position_of_a_quiet_channel_is_stable_until_its_first_event(broker):
    pos = await broker.position("timeline:home:5")
    assert pos.offset == 0 and pos.epoch
    assert await broker.position("timeline:home:5") == pos
    published = await broker.publish("timeline:home:5", "post.created", b"{}")
    assert published == Position(1, pos.epoch)
    history = await broker.history("timeline:home:5", pos)
    assert history.recovered and [p.offset for p in history.publications] == [1]


async def test_same_idempotency_key_publishes_once(broker):
    a = await broker.publish("user:3", "notification.created", b"1", idempotency_key="outbox:1")
    b = await broker.publish("user:3", "notification.created", b"1", idempotency_key="outbox:1")
    c = await broker.publish("user:3", "notification.created", b"2", idempotency_key="outbox:2")
    assert a == b and c.offset == a.offset + 1
    history = await broker.history("user:3", Position(0, a.epoch))
    assert [p.data for p in history.publications] == [b"1", b"2"]


class Collect:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.arrived = asyncio.Event()

    def push(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.arrived.set()


async def test_hub_delivers_each_publication_once_to_every_local_subscriber(broker):
    hub = Hub(broker)
    sinks = [Collect() for _ in range(3)]
    subs = [Sub(s, "timeline:public") for s in sinks]
    for sub in subs:
        await hub.add(sub)
        sub.settle(0, (await broker.position("timeline:public")).epoch)
    for n in range(5):
        await broker.publish("timeline:public", "post.created", b'{"n":%d}' % n)
    for sink in sinks:
        while len(sink.frames) < 5:
            sink.arrived.clear()
            await asyncio.wait_for(sink.arrived.wait(), 10)
    assert sinks[0].frames == sinks[1].frames == sinks[2].frames
    assert [b'"n":%d' % n in f for n, f in enumerate(sinks[0].frames)] == [True] * 5
    # one encode per publication: every socket got the very same frame bytes object
    assert all(a is b for a, b in zip(sinks[0].frames, sinks[1].frames, strict=True))
    for sub in subs:
        await hub.remove(sub)
    assert hub.count("timeline:public") == 0
