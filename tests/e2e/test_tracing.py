"""Tracing against a local OTLP/HTTP collector stand-in: a request's trace (continuing the caller's
``traceparent``) holds its database and Redis spans and the span of the job it enqueued; log lines
carry the trace id."""

from __future__ import annotations

import asyncio
import json
import secrets

import httpx
import pytest

from tests.e2e.nodes import Node
from tests.support.otlp import Collector

PASSWORD = "correct horse battery"


async def _until(predicate, what: str, seconds: float = 60.0):
    for _ in range(int(seconds / 0.2)):
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"never saw {what}")


@pytest.fixture
def traced(services, database):
    with Collector() as collector:
        node = Node(
            {
                "DATABASE_URL": services["database_url"],
                "REDIS_URL": services["redis_url"],
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
                "OTEL_SERVICE_NAME": "social-flow-test",
            }
        ).start()
        try:
            yield node, collector
        finally:
            node.stop()


async def test_a_request_its_queries_and_the_job_it_enqueued_share_one_trace(traced, clean_db, redis_client):
    node, collector = traced
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
        res = await http.post(
            "/api/v1/auth/register", json={"username": "tracy", "email": "tracy@example.com", "password": PASSWORD}
        )
        assert res.status_code == 201, res.text
        tokens = (await http.post("/api/v1/auth/login", json={"login": "tracy", "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        res = await http.post(
            "/api/v1/users/me/export", headers={**auth, "traceparent": f"00-{trace_id}-{parent_id}-01"}
        )
        assert res.status_code == 202, res.text
        export_id = res.json()["id"]

        async def ready() -> bool:
            return (await http.get(f"/api/v1/users/me/export/{export_id}", headers=auth)).json()["status"] == "ready"

        for _ in range(300):
            if await ready():
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the export never finished")

    def ours():
        return [s for s in collector.snapshot() if s.trace_id == trace_id]

    def job_span():
        return next((s for s in ours() if s.name == "job account_data.export"), None)

    job = await _until(job_span, "the export job's span")
    spans = ours()
    server = next(s for s in spans if s.name == "HTTP POST /api/v1/users/me/export")
    assert server.parent_span_id == parent_id  # continues the caller's trace
    assert server.attributes["http.response.status_code"] == 202
    assert server.service == "social-flow-test"
    assert any(s.attributes.get("db.system") == "postgresql" and s.parent_span_id == server.span_id for s in spans)
    # The job ran in the worker, later, yet is part of the request's trace, with its own queries below it.
    assert any(s.attributes.get("db.system") == "postgresql" and s.parent_span_id == job.span_id for s in spans)

    # Redis commands are spans too (the login's rate-limit counters run on Redis here).
    await _until(lambda: [s for s in collector.snapshot() if s.attributes.get("db.system") == "redis"], "a Redis span")

    # Every log line written inside the request carries its trace id.
    lines = [json.loads(line) for line in node.log.read_text().splitlines() if line.startswith("{")]
    traced_lines = [line for line in lines if line.get("trace_id") == trace_id]
    assert traced_lines, "no log line carries the request's trace id"
