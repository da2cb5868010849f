"""HTTP basics a client sees: probes, problem+json errors, request ids, OpenAPI."""

from __future__ import annotations


async def test_healthz_and_readyz_answer_ok(client):
    assert (await client.get("/healthz")).json() == {"status": "ok", "down": []}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


async def test_unknown_path_is_a_problem_with_code(client):
    res = await client.get("/api/v1/nope")
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")
    body = res.json()
    assert body["code"] == "not_found" and body["status"] == 404 and body["title"]


async def test_wrong_method_is_405_problem(client):
    res = await client.delete("/healthz")
    assert res.status_code == 405
    assert res.json()["code"] == "method_not_allowed"


async def test_every_response_carries_a_request_id(client):
    res = await client.get("/healthz")
    assert len(res.headers["x-request-id"]) >= 8
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abcdef123456"})
    assert echoed.headers["x-request-id"] == "abcdef123456"
    junk = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert junk.headers["x-request-id"] != "bad id with spaces"
    # Error answers too: a handler's problem, a path no route matches, a method the route lacks.
    for res in (
        await client.get("/api/v1/feeds/home"),
        await client.get("/api/v1/nope"),
        await client.delete("/healthz"),
    ):
        assert res.status_code in (401, 404, 405), res.status_code
        assert res.headers["content-type"].startswith("application/problem+json")
        assert len(res.headers["x-request-id"]) == 32
    echoed = await client.get("/api/v1/nope", headers={"X-Request-ID": "abcdef123456"})
    assert echoed.headers["x-request-id"] == "abcdef123456"


async def test_openapi_document_and_ui_are_served(client):
    doc = await client.get("/schema/openapi.json")
    assert doc.status_code == 200
    assert "/healthz" in doc.json()["paths"]
    ui = await client.get("/schema")
    assert ui.status_code == 200 and "html" in ui.headers["content-type"]
