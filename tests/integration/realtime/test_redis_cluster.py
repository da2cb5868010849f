"""The realtime layer on a real 3-shard Redis Cluster (``tests/support/valkey_cluster.py``).

Each channel lives on the shard that owns its slot (history, offsets and the sharded pub/sub channel
share one hash tag); a shard killed mid fan-out costs only its own channels, which resume honestly
(a new epoch: the shard restarted empty) once it is back; a slot that moves takes its subscriptions along.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from channels.broker import BrokerUnavailable
from channels.redis_cluster import ClusterBroker
from server.realtime.kinds import HISTORY
from server.settings import RedisSettings
from tests.integration.realtime.conftest import app_client, realtime_settings
from tests.integration.realtime.helpers import WAIT, account, connect
from tests.integration.realtime.test_redis_faults import Reader
from tests.support.brokers import redis_broker


def topic(channel: str) -> str:
    return f"sf:rt:{{{channel}}}:p"


def channels_on_distinct_shards(cluster: Any, count: int = 2) -> list[str]:
    """``timeline:public`` and hashtag channels, each on a different shard."""
    chosen = {cluster.shard_of(topic("timeline:public")): "timeline:public"}
    n = 0
    while len(chosen) < count:
        name = f"hashtag:tag{n}"
        chosen.setdefault(cluster.shard_of(topic(name)), name)
        n += 1
    return list(chosen.values())


@pytest.fixture
def cluster(redis_cluster: Any) -> Any:
    redis_cluster.flush()
    return redis_cluster


async def test_each_channel_lives_whole_on_the_shard_that_owns_its_slot(cluster):
    broker, client = redis_broker(cluster.url, HISTORY)
    await broker.start()
    try:
        names = [f"user:{n}" for n in range(30)]
        for name in names:
            await broker.publish(name, "notification.created", b"{}")
        used = set()
        for name in names:
            shard = cluster.shard_of(topic(name))
            used.add(shard)
            owner = cluster.client(shard)
            # its offsets and history are there, with its pub/sub channel's slot
            assert owner.exists(f"sf:rt:{{{name}}}:m", f"sf:rt:{{{name}}}:s") == 2
            slots = {owner.execute_command("CLUSTER KEYSLOT", k) for k in (topic(name), f"sf:rt:{{{name}}}:m")}
            assert len(slots) == 1
        assert used == {0, 1, 2}  # the channels spread over every shard
    finally:
        await broker.close()
        await client.aclose()


async def _publish_all(broker: Any, channel: str, total: int, published: list[tuple[str, int, int]]) -> None:
    for n in range(total):
        while True:
            try:
                pos = await broker.publish(channel, "post.created", b'{"n":%d}' % n)
                break
            except BrokerUnavailable:
                await asyncio.sleep(0.02)
        published.append((pos.epoch, pos.offset, n))
        if n % 25 == 0:
            await asyncio.sleep(0)


# A bound on each phase of the shard-restart test, so a stuck phase fails (saying which) instead of hanging
# the suite: far above what a phase takes on a loaded machine (seconds), never asserted on.
PHASE = 120.0


async def _until(what: str, done: Any, publisher: asyncio.Task[None]) -> None:
    """Poll ``done()`` every 10 ms; fail at once if ``publisher`` died, and after ``PHASE`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PHASE
    while not done():
        if publisher.done():
            publisher.result()  # a publisher that died raises its error here
            raise AssertionError(f"the publisher finished without {what}")
        if loop.time() > deadline:
            raise AssertionError(f"no {what} within {PHASE} s")
        await asyncio.sleep(0.01)


def _exactly_once_in_order(reader: Reader, published: list[tuple[str, int, int]]) -> None:
    by_pos = {(e, o): n for e, o, n in published}
    seen = [(e, o) for e, o, _ in reader.got]
    assert len(seen) == len(set(seen))
    for e, o, n in reader.got:
        assert by_pos[(e, o)] == n
    last_epoch, last_offset, _ = published[-1]
    final = [o for e, o, _ in reader.got if e == last_epoch]
    start = final[0] if final else last_offset + 1
    assert final == list(range(start, last_offset + 1))


async def test_a_shard_killed_and_restarted_mid_fan_out_costs_only_its_own_channels(clean_db, cluster, settings):
    hit, spared = channels_on_distinct_shards(cluster)
    victim = cluster.shard_of(topic(hit))
    settings = msgspec.structs.replace(realtime_settings(settings, True), redis=RedisSettings(url=cluster.url))
    total = 1500
    try:
        async with app_client(settings) as client:
            broker = client.app.state.realtime.broker
            assert isinstance(broker, ClusterBroker)
            _, token = await account(client, "alice")
            pub_hit: list[tuple[str, int, int]] = []
            pub_spared: list[tuple[str, int, int]] = []
            stop = asyncio.Event()
            async with connect(client, token) as ws_hit, connect(client, token) as ws_spared:
                r_hit, r_spared = Reader(ws_hit, hit), Reader(ws_spared, spared)
                for reader in (r_hit, r_spared):
                    sub = await reader.ws.subscribe(reader.channel)
                    reader.offset, reader.epoch = sub["offset"], sub["epoch"]
                followers = [asyncio.create_task(r.follow(stop)) for r in (r_hit, r_spared)]
                tasks = [
                    asyncio.create_task(_publish_all(broker, hit, total, pub_hit)),
                    asyncio.create_task(_publish_all(broker, spared, total, pub_spared)),
                ]
                await _until("300 publishes on the victim's channel", lambda: len(pub_hit) >= 300, tasks[0])
                cluster.kill(victim)  # SIGKILL: that shard's data is gone
                stalled_at = len(pub_hit)
                # The other shards keep publishing and delivering while the victim is down.
                target = len(pub_spared) + 300
                await _until("300 more on a spared shard", lambda: len(pub_spared) >= min(target, total), tasks[1])
                assert len(pub_hit) <= stalled_at + 1  # its channel waits for its shard
                cluster.restart(victim)
                await asyncio.wait_for(asyncio.gather(*tasks), PHASE)
                for reader, published in ((r_hit, pub_hit), (r_spared, pub_spared)):
                    last_epoch, last_offset, _ = published[-1]
                    for _ in range(int(WAIT * 100)):
                        if reader.epoch == last_epoch and reader.offset == last_offset:
                            break
                        await asyncio.sleep(0.01)
                stop.set()
                await asyncio.wait_for(asyncio.gather(*followers), PHASE)
            for reader, published in ((r_hit, pub_hit), (r_spared, pub_spared)):
                assert (reader.epoch, reader.offset) == published[-1][:2]
                _exactly_once_in_order(reader, published)
            # The spared channel never lost anything: one epoch, every event, no reset.
            assert len({e for e, _, _ in pub_spared}) == 1 and r_spared.resets == []
            assert [n for _, _, n in r_spared.got] == list(range(total))
            # The victim's channel restarted empty: a new epoch, announced honestly to its reader.
            assert len({e for e, _, _ in pub_hit}) == 2
            assert r_hit.resets and r_hit.resets[-1][1] == pub_hit[-1][0]
    finally:
        if cluster.procs[victim] is None:  # the test failed before bringing it back
            cluster.restart(victim)


async def test_a_subscription_follows_its_channel_when_the_slot_moves(cluster):
    broker, client = redis_broker(cluster.url, HISTORY)
    await broker.start()
    got: list[Any] = []
    broker.attach(lambda channel, pub: got.append((channel, pub.offset)))
    try:
        channel = "user:42"
        await broker.subscribe(channel)
        await broker.publish(channel, "notification.created", b"1")
        for _ in range(int(WAIT * 100)):
            if got:
                break
            await asyncio.sleep(0.01)
        assert got == [(channel, 1)]
        src = cluster.shard_of(topic(channel))
        dst = (src + 1) % 3
        cluster.move_slot(topic(channel), src, dst)
        assert cluster.owner_port(topic(channel)) == cluster.ports[dst]
        for n in range(2, 5):  # published on the new owner, where the keys moved with the slot
            await broker.publish(channel, "notification.created", str(n).encode())
        for _ in range(int(WAIT * 100)):
            if len(got) == 4:
                break
            await asyncio.sleep(0.01)
        assert got == [(channel, n) for n in range(1, 5)]
    finally:
        await broker.close()
        await client.aclose()
