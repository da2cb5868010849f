"""HTTP basics under bad input: body limits, malformed JSON, CORS, secret-free logs, documented errors."""

from __future__ import annotations

import io
import json
import logging
import time

import pyotp
import pytest
import structlog

from tests.support.accounts import PASSWORD, app_with, login, register, signed_in


async def test_an_oversized_body_is_413_too_large(client):
    huge = b'{"username": "' + b"a" * (2 << 20) + b'"}'
    res = await client.post("/api/v1/auth/register", content=huge, headers={"content-type": "application/json"})
    assert res.status_code == 413
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == "too_large"


async def test_malformed_json_and_wrong_types_are_problems(client):
    for raw in (b"{not json", b"", b"[1, 2", b"\xff\xfe"):
        res = await client.post("/api/v1/auth/login", content=raw, headers={"content-type": "application/json"})
        assert 400 <= res.status_code < 500, raw
        assert res.json()["code"] == "validation_error"
    for body in ([1, 2], {"login": 5, "password": "x"}, {"login": "a", "password": "b", "otp": 123456}, "str"):
        res = await client.post("/api/v1/auth/login", json=body)
        assert res.status_code == 422, body
        assert res.json()["code"] == "validation_error"
    # Unknown fields are refused where they matter.
    res = await client.post("/api/v1/auth/login", json={"login": "a", "password": "b", "admin": True})
    assert res.status_code == 422


@pytest.fixture
async def app(clean_db, redis_client, settings):
    return app_with(settings, **{"http.cors_origins": ("https://app.example",)})


async def test_cors_answers_allowed_origins_only(client):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = await client.options("/api/v1/auth/login", headers={"Origin": "https://app.example", **preflight})
    assert ok.status_code in (200, 204)
    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in ok.headers["access-control-allow-methods"]
    simple = await client.get("/healthz", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    evil = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    refused = await client.options("/api/v1/auth/login", headers={"Origin": "https://evil.example", **preflight})
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"


@pytest.fixture
def log_output():
    """Everything the app logs, as the JSON lines the configured handler writes."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


async def test_logs_never_contain_passwords_tokens_or_otps(client, log_output):
    wrong = "my wrong password 1"
    await register(client, "alice")
    await login(client, "alice", wrong)
    alice = await signed_in(client, "bob")
    setup = (await client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=alice["headers"])).json()
    otp = pyotp.TOTP(setup["secret"]).now()
    codes = (
        await client.post("/api/v1/auth/2fa/enable", json={"password": PASSWORD, "otp": otp}, headers=alice["headers"])
    ).json()
    second_otp = pyotp.TOTP(setup["secret"]).at(time.time() + 30)
    tokens = (await login(client, "bob", otp=second_otp)).json()
    refreshed = (await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    await client.post("/api/v1/auth/password-reset/request", json={"email": "alice@example.com"})
    # What a careless handler might log, through the app's pipeline.
    structlog.get_logger("probe").info(
        "probe", password=PASSWORD, headers={"authorization": f"Bearer {refreshed['access_token']}"}, otp=otp
    )

    lines = [line for line in log_output.getvalue().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e.get("event") == "audit" and e.get("action") == "login" for e in events)
    assert any(e.get("event") == "audit" and e.get("action") == "login_failed" for e in events)
    probe = next(e for e in events if e.get("event") == "probe")
    assert probe["password"] == "[redacted]" and probe["headers"]["authorization"] == "[redacted]"
    text = log_output.getvalue()
    secrets = [
        PASSWORD,
        wrong,
        setup["secret"],
        otp,
        second_otp,
        *codes["recovery_codes"],
        alice["access_token"],
        alice["refresh_token"],
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
    ]
    for secret in secrets:
        assert secret not in text


async def test_every_operation_documents_its_error_responses(client):
    doc = (await client.get("/schema/openapi.json")).json()
    missing = []
    operations = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.get("responses", {})
            errors = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            name = f"{method.upper()} {path}"
            operations += 1
            if path.startswith("/api/"):
                problem_docs = [
                    code for code in errors if "application/problem+json" in responses[str(code)].get("content", {})
                ]
                if not problem_docs:
                    missing.append(f"{name}: no problem+json error response")
                if "requestBody" in op and 422 not in errors:
                    missing.append(f"{name}: takes a body but does not document 422")
                params = {p["name"] for p in op.get("parameters", [])}
                if "limit" in params and 422 not in errors:
                    missing.append(f"{name}: pages but does not document 422")
                if any(p.get("in") == "path" for p in op.get("parameters", [])) and 404 not in errors:
                    missing.append(f"{name}: has a path id but does not document 404")
            elif path == "/readyz" and 503 not in errors:
                missing.append(f"{name}: does not document 503")
    assert not missing, "\n".join(missing)
    assert operations >= 20  # the walk really saw the API
    auth_paths = [p for p in doc["paths"] if p.startswith("/api/v1/auth/")]
    assert "/api/v1/auth/sessions" in auth_paths and "/api/v1/auth/password-reset" in auth_paths
