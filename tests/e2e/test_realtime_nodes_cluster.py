"""Two real server processes on a real 3-shard Redis Cluster (``REDIS_URL=redis+cluster://...``) behave as one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.nodes import Node
from tests.e2e.test_realtime_nodes import deliver_across_nodes_and_resume, logout_on_one_node_closes_socket_on_the_other


@pytest.fixture(scope="module")
def cluster_nodes(services: dict[str, str], database: None, redis_cluster: Any) -> Iterator[tuple[Node, Node]]:
    redis_cluster.flush()
    env = {"DATABASE_URL": services["database_url"], "REDIS_URL": redis_cluster.url}
    a, b = Node(env), Node(env)
    try:
        a.spawn(), b.spawn()
        a.wait_ready(), b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


async def test_a_socket_on_one_node_receives_what_the_other_publishes_on_a_cluster(cluster_nodes, clean_db):
    await deliver_across_nodes_and_resume(*cluster_nodes)


async def test_logout_on_one_node_closes_the_sessions_socket_on_the_other_on_a_cluster(cluster_nodes, clean_db):
    # Session revocations travel by classic pub/sub, which a cluster broadcasts to every node.
    await logout_on_one_node_closes_socket_on_the_other(*cluster_nodes)
