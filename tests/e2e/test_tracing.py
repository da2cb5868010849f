"""Tracing against a local OTLP/HTTP collector stand-in: a request's trace (continuing the caller's
``traceparent``) holds its database and Redis spans and the span of the job it enqueued; log lines
carry the trace id."""

from __future__ import annotations

import asyncio
import json
import secrets
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.nodes import Node
from tests.support import media
from tests.support.otlp import Collector, Span

PASSWORD = "correct horse battery"


async def _until(predicate, what: str, seconds: float = 60.0):
    for _ in range(int(seconds / 0.2)):
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"never saw {what}")


@pytest.fixture
def traced(services, database, clean_db, redis_client, tmp_path):
    """A node started on the emptied database and Redis (cleaning under a running node races its job worker)."""
    with Collector() as collector:
        node = Node(
            {
                "DATABASE_URL": services["database_url"],
                "REDIS_URL": services["redis_url"],
                "DATA_DIR": str(tmp_path),
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


def _ancestors(span: Span, spans: list[Span]) -> list[str]:
    """The span ids above ``span`` in ``spans``, nearest first."""
    by_id = {s.span_id: s for s in spans}
    chain, parent = [], span.parent_span_id
    while parent:
        chain.append(parent)
        parent = by_id[parent].parent_span_id if parent in by_id else ""
    return chain


async def test_a_trace_runs_from_a_request_through_outbox_events_and_the_job_that_handles_them(
    traced, clean_db, redis_client, tmp_path
):
    """Request → outbox row → relay publish; the last upload PATCH → the transcoding job → its outbox
    events (``video.progress``, ``video.ready``) → their publication: one trace, each span under its cause."""
    node, collector = traced
    clip = media.clip(tmp_path / "clip.mp4", seconds=1.5, size="320x240").read_bytes()
    post_trace, upload_trace = secrets.token_hex(16), secrets.token_hex(16)
    caller = secrets.token_hex(8)
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
        res = await http.post(
            "/api/v1/auth/register", json={"username": "vic", "email": "vic@example.com", "password": PASSWORD}
        )
        assert res.status_code == 201, res.text
        tokens = (await http.post("/api/v1/auth/login", json={"login": "vic", "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        res = await http.post(
            "/api/v1/posts",
            json={"text": "traced #hello", "visibility": "public"},
            headers={**auth, "traceparent": f"00-{post_trace}-{caller}-01"},
        )
        assert res.status_code == 201, res.text

        assert (await http.post("/api/v1/creators/enroll", headers=auth)).status_code == 200
        video = (
            await http.post("/api/v1/videos", json={"title": "Traced", "visibility": "public"}, headers=auth)
        ).json()
        upload = urlsplit(video["upload_url"]).path
        tus = {"Tus-Resumable": "1.0.0", **auth}
        created = await http.post(upload, headers={**tus, "Upload-Length": str(len(clip))})
        assert created.status_code == 201, created.text
        patched = await http.patch(
            upload,
            content=clip,
            headers={
                **tus,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "traceparent": f"00-{upload_trace}-{caller}-01",
            },
        )
        assert patched.status_code == 204, patched.text

        async def status() -> str:
            return str((await http.get(f"/api/v1/videos/{video['id']}", headers=auth)).json()["status"])

        for _ in range(600):
            if await status() in ("ready", "failed"):
                break
            await asyncio.sleep(0.2)
        assert await status() == "ready"

    def in_trace(trace_id: str) -> list[Span]:
        return [s for s in collector.snapshot() if s.trace_id == trace_id]

    def named(trace_id: str, name: str) -> Span | None:
        return next((s for s in in_trace(trace_id) if s.name == name), None)

    # The post: its outbox row's publication hangs under the request that emitted it.
    published = await _until(lambda: named(post_trace, "outbox publish post.created"), "the post's publish span")
    request = next(s for s in in_trace(post_trace) if s.name == "HTTP POST /api/v1/posts")
    assert request.parent_span_id == caller
    assert request.span_id in _ancestors(published, in_trace(post_trace))
    assert published.attributes["messaging.destination.name"].startswith("timeline:")

    # The upload: the transcoding job continues the PATCH's trace, and the events it emitted are published
    # under the job's span.
    job = await _until(lambda: named(upload_trace, "job video.process"), "the transcoding job's span")
    ready = await _until(lambda: named(upload_trace, "outbox publish video.ready"), "the video.ready publish span")
    spans = in_trace(upload_trace)
    patch = next(s for s in spans if s.name.startswith("HTTP PATCH /api/v1/uploads/"))
    assert patch.parent_span_id == caller
    assert patch.span_id in _ancestors(job, spans)
    assert job.span_id in _ancestors(ready, spans)
    assert ready.attributes["messaging.destination.name"] == f"video:{video['id']}"
    # ``video.progress`` 0 % is emitted by the PATCH itself (the last byte), later ones by the job: all in the trace.
    progress = [s for s in spans if s.name == "outbox publish video.progress"]
    assert progress and all(patch.span_id in _ancestors(s, spans) for s in progress)

    # The job's own log lines carry the upload's trace id.
    lines = [json.loads(line) for line in node.log.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "video_ready" and line.get("trace_id") == upload_trace for line in lines), [
        line for line in lines if line.get("event") == "video_ready"
    ]
