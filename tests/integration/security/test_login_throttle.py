"""Finding 2: the per-account login limit is reserved before the password is checked, per account."""

from __future__ import annotations

import asyncio
import time

import pyotp
import pytest

from server.settings import Limit
from tests.support.accounts import PASSWORD, app_with, login, register, signed_in


@pytest.fixture
async def app(clean_db, redis_client, settings):
    return app_with(
        settings,
        **{
            "rate_limits.login_ip": Limit(1000, 600),
            "rate_limits.login_account": Limit(3, 600),
            "rate_limits.twofa_account": Limit(100, 600),
        },
    )


async def test_a_concurrent_burst_of_guesses_gets_only_the_limit_checked(client):
    await register(client, "alice")
    answers = await asyncio.gather(*(login(client, "alice", f"guess number {i}") for i in range(15)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(401) <= 3, statuses
    assert statuses.count(429) >= 12, statuses
    assert (await login(client, "alice")).status_code == 429  # locked, even with the right password


async def test_username_and_email_are_one_bucket(client):
    await register(client, "alice")
    assert (await login(client, "alice", "wrong password 1")).status_code == 401
    assert (await login(client, "alice@example.com", "wrong password 2")).status_code == 401
    assert (await login(client, "ALICE@EXAMPLE.COM", "wrong password 3")).status_code == 401
    assert (await login(client, "alice")).status_code == 429
    assert (await login(client, "alice@example.com")).status_code == 429


async def test_a_burst_of_otp_guesses_is_bounded_the_same_way(client):
    alice = await signed_in(client, "alice")
    setup = (await client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=alice["headers"])).json()
    totp = pyotp.TOTP(setup["secret"])
    enabled = await client.post(
        "/api/v1/auth/2fa/enable", json={"password": PASSWORD, "otp": totp.now()}, headers=alice["headers"]
    )
    assert enabled.status_code == 200, enabled.text
    guesses = [f"{i:06d}" for i in range(100000, 100015)]
    answers = await asyncio.gather(*(login(client, "alice", PASSWORD, otp=g) for g in guesses))
    codes = [r.json()["code"] for r in answers]
    assert codes.count("invalid_otp") <= 3, codes
    assert codes.count("rate_limited") >= 12, codes
    locked = await login(client, "alice", PASSWORD, otp=totp.at(time.time() + 30))
    assert locked.status_code == 429


async def test_a_successful_login_frees_the_reservation(client):
    await register(client, "alice")
    for _ in range(5):
        assert (await login(client, "alice")).status_code == 200
