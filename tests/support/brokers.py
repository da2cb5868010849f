"""Brokers on a Redis of their own, as the composition root builds them (the client is the caller's to close)."""

from __future__ import annotations

from typing import Any

from channels.broker import HistoryPolicy


def redis_broker(url: str, history: dict[str, HistoryPolicy]) -> tuple[Any, Any]:
    """``(broker, client)``: a ``ClusterBroker`` for a ``redis+cluster://`` URL, else a ``RedisBroker``.

    Close the broker, then the client (``await client.aclose()``): the broker never closes what it was given.
    """
    from channels.redis import RedisBroker
    from channels.redis_cluster import ClusterBroker, connect, is_cluster

    client = connect(url)
    broker = ClusterBroker(client, history=history) if is_cluster(url) else RedisBroker(client, history=history)
    return broker, client
