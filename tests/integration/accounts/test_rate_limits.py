"""Rate limits on login, register, 2FA and password reset: 429 ``rate_limited`` with ``Retry-After``."""

from __future__ import annotations

import pyotp
import pytest

from server.errors import RateLimited
from server.ratelimit import RateLimiter
from server.settings import Limit
from tests.support.accounts import PASSWORD, app_with, login, register, signed_in


@pytest.fixture
async def app(clean_db, redis_client, settings):
    """Small limits, so that a handful of requests reach them."""
    return app_with(
        settings,
        **{
            "rate_limits.login_ip": Limit(6, 600),
            "rate_limits.login_account": Limit(3, 600),
            "rate_limits.register_ip": Limit(3, 600),
            "rate_limits.twofa_account": Limit(3, 600),
            "rate_limits.reset_account": Limit(2, 600),
        },
    )


def assert_limited(res):
    assert res.status_code == 429, res.text
    assert res.json()["code"] == "rate_limited"
    assert res.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(res.headers["retry-after"]) <= 600


async def test_failed_logins_lock_the_account_even_with_the_right_password(client):
    await register(client, "alice")
    await register(client, "bob")
    for _ in range(3):
        assert (await login(client, "alice", "wrong password!!")).status_code == 401
    assert_limited(await login(client, "alice"))
    assert_limited(await login(client, "ALICE"))  # the same account however it is typed
    # Another account from the same address is not affected.
    assert (await login(client, "bob")).status_code == 200


async def test_logins_are_limited_per_ip(client):
    await register(client, "alice")
    for _ in range(6):
        assert (await login(client, "alice")).status_code == 200
    assert_limited(await login(client, "alice"))
    assert_limited(await client.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD}))


async def test_registrations_are_limited_per_ip(client):
    for name in ("user1", "user2", "user3"):
        assert (await register(client, name)).status_code == 201
    assert_limited(await register(client, "user4"))


async def test_two_factor_attempts_are_limited_per_account(client):
    alice = await signed_in(client)
    setup = (await client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=alice["headers"])).json()
    for _ in range(2):
        res = await client.post(
            "/api/v1/auth/2fa/enable", json={"password": PASSWORD, "otp": "000000"}, headers=alice["headers"]
        )
        assert res.status_code == 401
    limited = await client.post(
        "/api/v1/auth/2fa/enable",
        json={"password": PASSWORD, "otp": pyotp.TOTP(setup["secret"]).now()},
        headers=alice["headers"],
    )
    assert_limited(limited)


async def test_password_reset_requests_are_limited_per_address_known_or_not(client):
    await register(client, "alice")
    for email in ("alice@example.com", "nobody@example.com"):
        for _ in range(2):
            res = await client.post("/api/v1/auth/password-reset/request", json={"email": email})
            assert res.status_code == 202
        assert_limited(await client.post("/api/v1/auth/password-reset/request", json={"email": email}))


@pytest.fixture(params=["memory", "redis"])
def limiter(request, redis_client):
    return RateLimiter(redis_client if request.param == "redis" else None)


async def test_limiter_counts_per_key_and_reports_retry_after(limiter):
    limit = Limit(2, 60)
    await limiter.hit("a", limit)
    await limiter.hit("a", limit)
    with pytest.raises(RateLimited) as raised:
        await limiter.hit("a", limit)
    assert 1 <= raised.value.retry_after <= 60
    await limiter.hit("b", limit)  # other keys have their own window
    await limiter.clear("a")
    await limiter.hit("a", limit)


async def test_limiter_check_refuses_a_full_window_without_counting(limiter):
    limit = Limit(2, 60)
    await limiter.check("f", limit)
    await limiter.check("f", limit)
    await limiter.record("f", limit)
    await limiter.check("f", limit)
    await limiter.record("f", limit)
    with pytest.raises(RateLimited):
        await limiter.check("f", limit)


async def test_redis_limits_are_shared_between_nodes(redis_client, services):
    import redis.asyncio as aioredis

    other = aioredis.from_url(services["redis_url"])
    try:
        node_a, node_b = RateLimiter(redis_client), RateLimiter(other)
        limit = Limit(2, 60)
        await node_a.hit("shared", limit)
        await node_b.hit("shared", limit)
        with pytest.raises(RateLimited):
            await node_a.hit("shared", limit)
        assert 0 < await redis_client.ttl("sf:rl:shared") <= 60
    finally:
        await other.aclose()
