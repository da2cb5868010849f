"""``/metrics``: off without METRICS_TOKEN, a bearer token required, and the figures an operator watches."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.settings import ObservabilitySettings
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import users
from tests.support.accounts import app_with
from tests.support.asgi import in_process_client

TOKEN = "metrics-test-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as ``{(name, sorted labels): value}`` (parsed with prometheus-client's own parser)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def scrape(client) -> dict:
    res = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/plain")
    return samples(res.text)


async def test_metrics_answer_404_when_no_token_is_configured(client):
    res = await client.get("/metrics")
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
async def metrics_client(clean_db, redis_client, settings):
    app = app_with(settings, observability=ObservabilitySettings(metrics_token=TOKEN, sample_seconds=3600))
    async with in_process_client(app) as c:
        yield c


async def test_metrics_need_the_bearer_token(metrics_client):
    assert (await metrics_client.get("/metrics")).status_code == 401
    wrong = await metrics_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    assert (await metrics_client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})).status_code == 401


async def test_metrics_count_requests_sockets_subscriptions_and_deliveries(metrics_client):
    client = metrics_client
    before = await scrape(client)
    alice, bob = await users(client, "alice", "bob")
    await bob.follow(alice)
    await client.get("/api/v1/users/nobody-here")  # a 404 on a templated route
    async with connect(client, bob.token) as ws:
        assert (await ws.subscribe(f"timeline:home:{bob.id}"))["type"] == "subscribed"
        assert (await ws.subscribe("timeline:public"))["type"] == "subscribed"
        assert (await ws.subscribe(f"user:{bob.id}"))["type"] == "subscribed"
        await alice.publish("hello metrics")
        while True:
            frame = await ws.event()
            if frame["event"] == "post.created" and frame["channel"] == "timeline:public":
                break
        now = await scrape(client)
        assert now[("socialflow_ws_connections", ())] == 1
        assert now[("socialflow_ws_subscriptions", (("kind", "timeline:home"),))] == 1
        assert now[("socialflow_ws_subscriptions", (("kind", "timeline:public"),))] == 1
        assert now[("socialflow_ws_subscriptions", (("kind", "user"),))] == 1
    after = await scrape(client)
    assert after[("socialflow_ws_connections", ())] == 0

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    # Route templates, never raw paths (which would explode the label set with ids).
    assert (
        delta("socialflow_http_requests_total", method="POST", route="/api/v1/users/{username}/follow", status="200")
        == 1
    )
    assert delta("socialflow_http_requests_total", method="GET", route="/api/v1/users/{username}", status="404") == 1
    assert not any("nobody-here" in str(labels) for _, labels in after)
    assert delta("socialflow_http_request_duration_seconds_count", method="POST", route="/api/v1/posts") == 1
    assert delta("socialflow_ws_events_delivered_total") >= 2  # home timeline and public timeline at least
    assert delta("socialflow_relay_publish_duration_seconds_count") >= 2
    assert after[("socialflow_relay_active", ())] == 1  # this app's relay holds the relay lock
    assert after[("socialflow_outbox_lag_seconds", ())] >= 0
    assert ("socialflow_outbox_pending", ()) in after
    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    for name in ("socialflow_push_sends_total", "socialflow_transcode_duration_seconds", "socialflow_payment_webhooks"):
        assert re.search(rf"^# TYPE {name}", text, re.M), name


async def test_metrics_show_job_queue_depth_per_kind(metrics_client):
    from models.outbox import OutboxEvent
    from server.jobqueue import enqueue

    queued = ("socialflow_jobs_queued", (("kind", "notifications.push"), ("status", "todo")))
    failed = ("socialflow_jobs_failed", (("kind", "notifications.send"),))
    before = await scrape(metrics_client)
    await enqueue("notifications.push", {"user_id": 1, "group_key": "like:post:1"}, delay=3600)
    await enqueue("notifications.push", {"user_id": 2, "group_key": "like:post:2"}, delay=3600)
    await OutboxEvent.raw(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
        "VALUES ('push', 'notifications.send', {}::jsonb, 'failed')",
        "{}",
    )
    now = await scrape(metrics_client)
    # Jobs of earlier tests may still wait in the queue (it is not a Piccolo table the fixtures empty).
    assert now[queued] - before.get(queued, 0) == 2
    assert now[failed] - before.get(failed, 0) == 1
