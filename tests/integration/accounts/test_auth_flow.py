"""The contract's auth rows, as a client uses them."""

from __future__ import annotations

import time

import jwt
import pyotp

PASSWORD = "correct horse battery"


async def register(client, username="alice", email=None, password="correct horse battery"):
    res = await client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": email or f"{username}@example.com", "password": password},
    )
    return res


async def login(client, login="alice", password="correct horse battery", **extra):
    return await client.post("/api/v1/auth/login", json={"login": login, "password": password, **extra})


async def test_register_then_login_then_me(client):
    res = await register(client)
    assert res.status_code == 201
    user = res.json()
    assert user["username"] == "alice" and isinstance(user["id"], str)
    assert user["followers_count"] == 0 and user["following_count"] == 0
    assert "password" not in str(user) and "password_hash" not in user

    tokens = (await login(client, login="ALICE@example.com")).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice" and me.json()["role"] == "user"
    assert me.json()["two_factor_enabled"] is False and me.json()["email"] == "alice@example.com"


async def test_duplicate_username_or_email_is_conflict_regardless_of_case(client):
    assert (await register(client)).status_code == 201
    dup = await register(client, username="ALICE", email="other@example.com")
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    dup_mail = await register(client, username="alice2", email="Alice@Example.com")
    assert dup_mail.status_code == 409


async def test_bad_registrations_are_422(client):
    for body in (
        {"username": "ab", "email": "a@example.com", "password": "correct horse battery"},
        {"username": "bad name!", "email": "a@example.com", "password": "correct horse battery"},
        {"username": "bob", "email": "not-an-email", "password": "correct horse battery"},
        {"username": "bob", "email": "b@example.com", "password": "short"},
        {"username": "bob", "email": "b@example.com", "password": "password123"},
        {"username": "bob", "email": "b@example.com"},
    ):
        res = await client.post("/api/v1/auth/register", json=body)
        assert res.status_code == 422, body
        assert res.json()["code"] == "validation_error"
    malformed = await client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "validation_error"
    assert malformed.headers["content-type"].startswith("application/problem+json")


async def test_wrong_password_is_401(client):
    await register(client)
    res = await login(client, password="wrong password!!")
    assert res.status_code == 401 and res.json()["code"] == "unauthorized"
    nobody = await login(client, login="nobody")
    assert nobody.status_code == 401


async def test_oauth2_form_login(client):
    await register(client)
    res = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "alice", "password": "correct horse battery"},
    )
    assert res.status_code == 200 and res.json()["token_type"] == "bearer"


async def test_refresh_rotates_and_reuse_revokes_the_session(client):
    await register(client)
    first = (await login(client)).json()
    second = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    # The spent token again: 401, and the whole session (including the new pair) is dead.
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 401
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401


async def test_logout_stops_the_access_token(client):
    await register(client)
    tokens = (await login(client)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=auth)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=auth)).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401


async def test_bad_tokens_are_401(client, settings):

    await register(client)
    tokens = (await login(client)).json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    key = settings.security.secret_key
    forged = {
        "none": jwt.encode(claims, None, algorithm="none"),
        "wrong_aud": jwt.encode({**claims, "aud": "someone-else"}, key, algorithm="HS256"),
        "wrong_iss": jwt.encode({**claims, "iss": "evil"}, key, algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 60}, key, algorithm="HS256"),
        "tampered": tokens["access_token"][:-3] + ("aaa" if not tokens["access_token"].endswith("aaa") else "bbb"),
        "refresh_as_access": tokens["refresh_token"],
        "wrong_typ": jwt.encode({**claims, "typ": "refresh"}, key, algorithm="HS256"),
    }
    for name, token in forged.items():
        res = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 401, name
        assert res.json()["code"] == "unauthorized"
    # An access token is not a refresh token either.
    res = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert res.status_code == 401


async def test_totp_enrolment_login_and_replay(client):
    await register(client)
    tokens = (await login(client)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    setup = (await client.post("/api/v1/auth/2fa/setup", headers=auth, json={"password": PASSWORD})).json()
    assert setup["otpauth_url"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(setup["secret"])
    bad = await client.post("/api/v1/auth/2fa/enable", headers=auth, json={"password": PASSWORD, "otp": "000000"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_otp"
    code = totp.now()
    enabled = await client.post("/api/v1/auth/2fa/enable", headers=auth, json={"password": PASSWORD, "otp": code})
    assert enabled.status_code == 200
    recovery = enabled.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10

    missing = await login(client)
    assert missing.status_code == 401 and missing.json()["code"] == "mfa_required"
    # The code used to enable is spent: a replay in the same window fails.
    replay = await login(client, otp=code)
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_otp"
    # A recovery code works once.
    assert (await login(client, otp=recovery[0])).status_code == 200
    assert (await login(client, otp=recovery[0])).json()["code"] == "invalid_otp"
    # A fresh code from the next step works (simulate by computing the next window's code).
    nxt = totp.at(time.time() + 30)
    ok = await login(client, otp=nxt)
    assert ok.status_code == 200
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    ).json()["two_factor_enabled"] is True
