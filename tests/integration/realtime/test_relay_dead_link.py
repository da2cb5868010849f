"""The relay's link to PostgreSQL goes dead without closing (a NAT or firewall dropped it): both ends stay open,
nothing arrives. The relay must notice (its statements are bounded), reconnect, and, since the server has not
noticed and still keeps the old session and its relay lock, end that session of its own instead of standing by
until the server's ``idle_session_timeout`` (90 s and more): posts made meanwhile reach subscribers.
"""

from __future__ import annotations

import asyncpg
from prometheus_client import REGISTRY

from server import db
from server.realtime.relay import Relay
from tests.integration.realtime.helpers import connect
from tests.integration.realtime.test_outbox import eventually
from tests.integration.realtime.test_relay_failover import _holds, _post_created
from tests.integration.social.helpers import users
from tests.support.tcp_proxy import CuttableProxy


async def _database_address() -> tuple[str, int | None, str]:
    """Where this session's PostgreSQL listens (a Unix socket path, or host and port) and the database name."""
    conn = await asyncpg.connect(db.engine().config["dsn"])
    try:
        row = await conn.fetchrow(
            "SELECT host(inet_server_addr()) AS host, inet_server_port() AS port, current_database() AS name, "
            "split_part(current_setting('unix_socket_directories'), ',', 1) AS dir, current_setting('port') AS p"
        )
    finally:
        await conn.close()
    if row["host"] is None:
        return f"{row['dir'].strip()}/.s.PGSQL.{row['p']}", None, row["name"]
    return row["host"], row["port"], row["name"]


def _ended() -> float:
    """``socialflow_relay_interruptions_total{reason="abandoned_session"}``: what an operator's dashboard shows."""
    labels = {"reason": "abandoned_session"}
    return REGISTRY.get_sample_value("socialflow_relay_interruptions_total", labels) or 0.0


async def _sessions(pid: int) -> int:
    conn = await asyncpg.connect(db.engine().config["dsn"])
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid))
    finally:
        await conn.close()


async def test_a_relay_whose_link_went_dead_ends_its_old_session_and_relays_again(make_client):
    host, port, name = await _database_address()
    async with make_client(redis=True) as client, CuttableProxy(host, port).running() as proxy:
        realtime = client.app.state.realtime
        await realtime.relay.stop()  # this test's relay, through the proxy, is the only one
        user = db.engine().config["dsn"].partition("://")[2].partition("@")[0].partition(":")[0] or "postgres"
        relay = Relay(
            f"postgresql://{user}@127.0.0.1:{proxy.port}/{name}", realtime.broker, poll=1.0, query_timeout=1.0
        )
        relay.start()
        try:
            alice, bob = await users(client, "alice", "bob")
            async with connect(client, bob.token) as ws:
                assert (await ws.subscribe("timeline:public"))["type"] == "subscribed"
                await eventually(lambda: _holds(relay), relay)
                first = await alice.publish("before the link went dead")
                await _post_created(ws, first["id"], relay)

                old = relay.backend_pid
                assert old is not None
                ended_before = _ended()
                proxy.stall()
                post = await alice.publish("made while the relay's link is dead")
                await _post_created(ws, post["id"], relay)

                assert relay.active and relay.backend_pid not in (None, old)
                assert await _sessions(old) == 0  # the dead link's session was ended, not left holding the lock
                assert _ended() == ended_before + 1
        finally:
            await relay.stop()
