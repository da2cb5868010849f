"""A slow consumer is closed with 4008 at its queue bound, while every other socket keeps flowing."""

from __future__ import annotations

import asyncio
import json

from channels.gateway import Gateway, GatewayConfig, Identity, PublishRefused
from channels.hub import Hub
from server.realtime import kinds


class Flow:
    """Whether anything reached any peer of a test. A wait fails on a stall (nothing delivered anywhere for
    10 s), not on a slow machine: 1,000 sockets x 120 events is ~120k deliveries in this one process, which
    under heavy load took longer than 10 s after the publishes ended while every frame kept flowing."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()


class Peer:
    """The far end of a socket, in memory: ``gate`` cleared means the client stopped reading."""

    scope: dict = {"headers": []}

    def __init__(self, flow: Flow) -> None:
        self.inbox: asyncio.Queue[dict] = asyncio.Queue()
        self.frames: list[dict] = []
        self.close_code: int | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.arrived = flow.arrived

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict:
        return await self.inbox.get()

    async def send(self, message: dict) -> None:
        if message["type"] == "websocket.close":
            self.close_code = message["code"]
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": message["code"]})
            self.arrived.set()
            return
        await self.gate.wait()
        self.frames.append(json.loads(message["text"]))
        self.arrived.set()

    def say(self, frame: dict) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    async def until(self, predicate) -> None:
        """Wait for ``predicate``; fail if no peer of the test got anything for 10 s meanwhile."""
        while not predicate():
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


class Everyone:
    async def may_subscribe(self, user_id, channel):
        return True

    async def publish(self, user_id, channel, event, data):
        raise PublishRefused("forbidden", "no publishing here")


async def test_slow_consumer_is_cut_at_its_bound_while_others_flow(broker):
    async def authenticate(token: str) -> Identity:
        return Identity(user_id=int(token), session_id=int(token))

    gateway = Gateway(Hub(broker), authenticate, Everyone(), GatewayConfig(queue_count=50), vocabulary=kinds.VOCABULARY)
    flow = Flow()
    peers = [Peer(flow) for _ in range(4)]
    tasks = [asyncio.create_task(gateway.serve(p)) for p in peers]
    for n, peer in enumerate(peers, start=1):
        peer.say({"type": "auth", "id": 1, "token": str(n)})
        peer.say({"type": "subscribe", "id": 2, "channel": "timeline:public"})
        await peer.until(lambda p=peer: len(p.frames) == 2)
        assert p_types(peer) == ["ready", "subscribed"]
    slow, fast = peers[0], peers[1:]
    slow.gate.clear()  # the slow client stops reading

    for n in range(300):
        await broker.publish("timeline:public", "post.created", b'{"n":%d}' % n)
        if n % 10 == 9:
            await asyncio.sleep(0.01)  # publishes arrive over time, as from requests
    await slow.until(lambda: slow.close_code is not None)
    assert slow.close_code == 4008
    for peer in fast:
        await peer.until(lambda p=peer: len(p.frames) == 302)
        assert [f["data"]["n"] for f in peer.frames[2:]] == list(range(300))
        assert peer.close_code is None
    assert len(slow.frames) < 300
    await gateway.close_all()
    await asyncio.gather(*tasks)
    assert all(p.close_code == 1001 for p in fast)


def p_types(peer: Peer) -> list[str]:
    return [f["type"] for f in peer.frames]


async def test_one_slow_consumer_among_a_thousand_sockets_leaves_the_others_untouched(broker):
    """Chaos, in behaviour (latency percentiles are for bench/): the 999 others get every event, in order."""

    async def authenticate(token: str) -> Identity:
        return Identity(user_id=int(token), session_id=int(token))

    gateway = Gateway(Hub(broker), authenticate, Everyone(), GatewayConfig(queue_count=50), vocabulary=kinds.VOCABULARY)
    flow = Flow()
    peers = [Peer(flow) for _ in range(1000)]
    tasks = [asyncio.create_task(gateway.serve(p)) for p in peers]
    for n, peer in enumerate(peers, start=1):
        peer.say({"type": "auth", "id": 1, "token": str(n)})
        peer.say({"type": "subscribe", "id": 2, "channel": "timeline:public"})
    for peer in peers:
        await peer.until(lambda p=peer: len(p.frames) == 2)
    slow, others = peers[500], peers[:500] + peers[501:]
    slow.gate.clear()
    for n in range(120):
        await broker.publish("timeline:public", "post.created", b'{"n":%d}' % n)
        if n % 10 == 9:
            await asyncio.sleep(0.01)
    await slow.until(lambda: slow.close_code is not None)
    assert slow.close_code == 4008
    for peer in others:
        await peer.until(lambda p=peer: len(p.frames) == 122)
    assert all([f["data"]["n"] for f in p.frames[2:]] == list(range(120)) for p in others)
    assert all(p.close_code is None for p in others)
    await gateway.close_all()
    await asyncio.gather(*tasks)


async def test_closed_sockets_are_freed_after_a_fan_out_while_no_other_send_follows(broker):
    """Once every socket of a fan-out has closed, nothing of theirs stays alive: not their connections, queues or
    identities. (The gateway's flusher held its last round's queues, and through them every closed socket of a
    fan-out, until the next send; a full garbage collection then walked them all on every run.)"""
    import gc

    from channels.gateway import Conn

    async def authenticate(token: str) -> Identity:
        return Identity(user_id=int(token), session_id=int(token))

    gateway = Gateway(Hub(broker), authenticate, Everyone(), GatewayConfig(), vocabulary=kinds.VOCABULARY)
    flow = Flow()
    peers = [Peer(flow) for _ in range(50)]
    tasks = [asyncio.create_task(gateway.serve(p)) for p in peers]
    for n, peer in enumerate(peers, start=1):
        peer.say({"type": "auth", "id": 1, "token": str(n)})
        peer.say({"type": "subscribe", "id": 2, "channel": "timeline:public"})
    for peer in peers:
        await peer.until(lambda p=peer: len(p.frames) == 2)
    await broker.publish("timeline:public", "post.created", b'{"n":1}')
    for peer in peers:
        await peer.until(lambda p=peer: len(p.frames) == 3)
    for peer in peers:  # the clients go away; no other frame is sent afterwards
        peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1001})
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, Conn) and o.gateway is gateway]
    assert alive == []
    await gateway.close_all()
