"""Schemathesis over the whole OpenAPI document against a real, running server, signed in.

Every operation is exercised with its documented examples and random inputs (15 per operation), then
the stateful phase follows the links the document declares (create, then read, edit, delete what was
created). Passing means: no 5xx but a documented 503, every status code and content type documented,
every body valid against its documented schema. ``/auth/logout``, ending a session by id and account
deletion are left out so the run keeps its session. Payments are configured, pointed at a Stripe that
is not there: every operation runs its checks, and what needs Stripe answers its documented 503.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import PASSWORD
from tests.support.live import live_server

pytestmark = pytest.mark.schemathesis  # `make schemathesis`, not `make test`

ROOT = Path(__file__).resolve().parents[3]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_the_whole_openapi_document_holds_against_a_running_server(clean_db, redis_client, tmp_path):
    limits = {f"RATE_LIMIT_{k}": "100000/60" for k in ("LOGIN_IP", "REGISTER_IP", "TWOFA_IP", "TWOFA_ACCOUNT")}
    payments = {
        "STRIPE_SECRET_KEY": "sk_test_schemathesis",
        "STRIPE_WEBHOOK_SECRET": "whsec_schemathesis",
        "STRIPE_API_BASE": "http://127.0.0.1:9",  # nothing listens: Stripe calls fail as an outage would
    }
    with live_server(**limits, **payments) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        res = http.post(
            "/api/v1/auth/register", json={"username": "fuzz", "email": "fuzz@example.com", "password": PASSWORD}
        )
        assert res.status_code == 201, res.text
        token = http.post("/api/v1/auth/login", json={"login": "fuzz", "password": PASSWORD}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        http.post("/api/v1/posts", json={"text": "something to find #fuzz"}, headers=auth)
        # A creator and advertiser: their operations get past the role check and into their own rules.
        for role in ("creators", "advertisers"):
            assert http.post(f"/api/v1/{role}/enroll", headers=auth).status_code == 200
        operations = len(
            [
                (path, method)
                for path, item in http.get("/schema/openapi.json").json()["paths"].items()
                for method in item
                if method in ("get", "put", "post", "delete", "patch")
            ]
        )
        report = tmp_path / "events.ndjson"
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                f"{server.url}/schema/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                "15",
                "--phases",
                "examples,fuzzing,stateful",
                "--header",
                f"Authorization: Bearer {token}",
                "--exclude-path",
                "/api/v1/auth/logout",
                "--exclude-name",
                "DELETE /api/v1/users/me",
                # Ids seen in answers are reused: it would end its own session (GET /auth/sessions lists it).
                "--exclude-name",
                "DELETE /api/v1/auth/sessions/{session_id}",
                "--generation-deterministic",
                "--request-timeout",
                "30",
                "--workers",
                "2",
                "--report",
                "ndjson",
                "--report-ndjson-path",
                str(report),
                "--no-color",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        out = run.stdout + run.stderr
        (tmp_path / "schemathesis.out").write_text(out)
        print(out[-6000:])
        print(f"operations in the OpenAPI document: {operations}")
        assert run.returncode == 0, out[-8000:] + "\n--- server log ---\n" + server.log()
        assert operations >= 60
        assert "500 Internal" not in server.log()
        json.dumps(operations)
