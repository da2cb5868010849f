"""Finding 11: `X-Forwarded-For` is trusted only from `FORWARDED_ALLOW_IPS` (default: nobody)."""

from __future__ import annotations

import httpx

from tests.support.live import live_server


def _logins(base: str, n: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for i in range(n):
            res = http.post(
                "/api/v1/auth/login",
                json={"login": f"nobody{i}", "password": "wrong password!"},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}", "Forwarded": f"for=198.51.100.{i + 1}"},
            )
            statuses.append(res.status_code)
    return statuses


def test_forwarded_for_from_loopback_does_not_dodge_the_per_ip_limit(clean_db, redis_client):
    # The client is on loopback, like a local attacker or a misconfigured sidecar: a new
    # X-Forwarded-For per request must not make each request a new IP.
    with live_server(RATE_LIMIT_LOGIN_IP="3/900") as server:
        assert _logins(server.url, 5) == [401, 401, 401, 429, 429], server.log()


def test_forwarded_for_is_honoured_from_an_allowed_proxy(clean_db, redis_client):
    with live_server(RATE_LIMIT_LOGIN_IP="3/900", FORWARDED_ALLOW_IPS="127.0.0.1") as server:
        assert _logins(server.url, 5) == [401] * 5, server.log()
