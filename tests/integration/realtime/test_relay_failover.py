"""The outbox relay's connection is killed (``pg_terminate_backend``, as an operator or a PostgreSQL restart
would): posts made afterwards still reach websocket subscribers, on one node and on two.

The relays poll once an hour here, so only what the relay does about a lost connection can make these pass.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from server import db
from server.realtime.relay import Relay
from tests.integration.realtime.helpers import connect
from tests.integration.realtime.test_outbox import DEADLINE, eventually, terminate_relay_backends, why_not
from tests.integration.social.helpers import users

NO_POLL = 3600.0


async def _post_created(ws: Any, post_id: str, relay: Relay) -> dict[str, Any]:
    """The ``post.created`` of ``post_id`` on ``timeline:public``; after ``DEADLINE`` fail with the relay's state."""
    try:
        async with asyncio.timeout(DEADLINE):
            while True:
                frame = await ws.recv(timeout=DEADLINE)
                if frame.get("event") == "post.created" and frame["data"]["id"] == post_id:
                    return frame
    except TimeoutError:
        raise AssertionError(f"the post never reached the subscriber: {await why_not(relay)}") from None


def _refused_dsn() -> str:
    """The database's DSN on a local port nothing listens on: a node cut off from PostgreSQL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dsn: str = db.engine().config["dsn"]
    scheme, _, rest = dsn.partition("://")
    credentials, _, location = rest.rpartition("@")
    path = location.partition("/")[2]
    return f"{scheme}://{credentials + '@' if credentials else ''}127.0.0.1:{port}/{path}"


async def test_a_post_after_the_relay_connection_is_killed_reaches_a_subscriber(make_client):
    async with make_client(redis=True, relay_poll=NO_POLL) as client:
        relay: Relay = client.app.state.realtime.relay
        alice, bob = await users(client, "alice", "bob")
        async with connect(client, bob.token) as ws:
            assert (await ws.subscribe("timeline:public"))["type"] == "subscribed"
            await eventually(lambda: _holds(relay), relay)
            killed = relay.backend_pid
            assert await terminate_relay_backends() == [killed]

            post = await alice.publish("made after the relay lost its connection")
            assert (await _post_created(ws, post["id"], relay))["channel"] == "timeline:public"
            assert relay.backend_pid not in (None, killed)


async def test_when_the_lock_holders_connection_is_killed_the_other_node_takes_over(make_client):
    async with make_client(redis=True, relay_poll=NO_POLL) as node_a:
        relay_a: Relay = node_a.app.state.realtime.relay
        await eventually(lambda: _holds(relay_a), relay_a)
        async with make_client(redis=True, relay_poll=NO_POLL) as node_b:
            relay_b: Relay = node_b.app.state.realtime.relay
            alice, bob = await users(node_b, "alice", "bob")
            async with connect(node_b, bob.token) as ws:
                assert (await ws.subscribe("timeline:public"))["type"] == "subscribed"
                assert relay_a.active and not relay_b.active, (await why_not(relay_a), await why_not(relay_b))

                # Node A loses PostgreSQL: its relay's connection is ended and it cannot open another.
                relay_a.dsn = _refused_dsn()
                killed = relay_a.backend_pid
                assert await terminate_relay_backends(killed) == [killed]

                post = await alice.publish("made after node A lost the relay lock")
                await _post_created(ws, post["id"], relay_b)
                assert relay_b.active and not relay_a.active
                conn = await db.engine().get_new_connection()
                try:
                    holder = await Relay.lock_holder(conn)
                finally:
                    await conn.close()
                assert holder is not None and holder["pid"] == relay_b.backend_pid
                assert relay_a.last_error is not None  # what node A's operator sees: it cannot connect


async def test_a_holder_that_cannot_reach_redis_lets_a_node_that_can_relay(make_client, settings):
    """Node A relays but loses its own path to Redis (a cut proxy); node B still reaches Redis. A gives the lock
    up instead of retrying forever with it, and B, standing by, relays the post to B's subscriber."""
    from urllib.parse import urlsplit

    import msgspec

    from server.settings import RedisSettings
    from tests.support.tcp_proxy import CuttableProxy

    redis = urlsplit(settings.redis.url)
    async with CuttableProxy(redis.hostname, redis.port).running() as proxy:
        via_proxy = redis._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        proxied = msgspec.structs.replace(settings, redis=RedisSettings(url=via_proxy))
        async with make_client(redis=True, base=proxied, relay_poll=NO_POLL) as node_a:
            relay_a: Relay = node_a.app.state.realtime.relay
            relay_a.broker_give_up = 1.0  # instead of 10 s: this test need not wait that long
            await eventually(lambda: _holds(relay_a), relay_a)
            async with make_client(redis=True, relay_poll=NO_POLL) as node_b:
                relay_b: Relay = node_b.app.state.realtime.relay
                alice, bob = await users(node_b, "alice", "bob")
                async with connect(node_b, bob.token) as ws:
                    assert (await ws.subscribe("timeline:public"))["type"] == "subscribed"
                    assert relay_a.active and not relay_b.active, (await why_not(relay_a), await why_not(relay_b))

                    proxy.cut()
                    post = await alice.publish("made while node A cannot reach Redis")
                    await _post_created(ws, post["id"], relay_b)
                    assert relay_b.active and not relay_a.active
                    assert relay_a.last_error is not None and "BrokerGaveUp" in relay_a.last_error


async def _holds(relay: Relay) -> bool:
    return relay.active and relay.backend_pid is not None
