"""Finding 5: 2FA setup, enable, disable and recovery-code regeneration need the password (401 otherwise)."""

from __future__ import annotations

import time

import pyotp

from tests.support.accounts import PASSWORD, login, signed_in

WRONG = "not the password at all"


async def test_twofa_changes_need_the_password(client):
    alice = await signed_in(client, "alice")
    h = alice["headers"]
    for body in ({}, {"password": WRONG}):
        res = await client.post("/api/v1/auth/2fa/setup", json=body, headers=h)
        assert res.status_code in (401, 422) if not body else res.status_code == 401, res.text
    assert (await client.post("/api/v1/auth/2fa/setup", json={"password": WRONG}, headers=h)).json()["code"] == (
        "unauthorized"
    )
    setup = await client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=h)
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])

    wrong = await client.post("/api/v1/auth/2fa/enable", json={"password": WRONG, "otp": totp.now()}, headers=h)
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    assert (await client.get("/api/v1/auth/me", headers=h)).json()["two_factor_enabled"] is False
    enabled = await client.post("/api/v1/auth/2fa/enable", json={"password": PASSWORD, "otp": totp.now()}, headers=h)
    assert enabled.status_code == 200, enabled.text
    old_codes = enabled.json()["recovery_codes"]

    # Recovery codes: regenerated only with the password (and a code); the old ones stop working.
    nxt = totp.at(time.time() + 30)
    res = await client.post("/api/v1/auth/2fa/recovery-codes", json={"password": WRONG, "otp": nxt}, headers=h)
    assert res.status_code == 401
    res = await client.post("/api/v1/auth/2fa/recovery-codes", json={"password": PASSWORD, "otp": nxt}, headers=h)
    assert res.status_code == 200, res.text
    new_codes = res.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert (await login(client, "alice", otp=old_codes[0])).json()["code"] == "invalid_otp"

    # A stolen access token alone cannot turn 2FA off.
    res = await client.post("/api/v1/auth/2fa/disable", json={"password": WRONG, "otp": new_codes[0]}, headers=h)
    assert res.status_code == 401
    res = await client.post("/api/v1/auth/2fa/disable", json={"otp": new_codes[0]}, headers=h)
    assert res.status_code in (401, 422)
    assert (await client.get("/api/v1/auth/me", headers=h)).json()["two_factor_enabled"] is True
    res = await client.post("/api/v1/auth/2fa/disable", json={"password": PASSWORD, "otp": new_codes[1]}, headers=h)
    assert res.status_code == 204, res.text
    assert (await client.get("/api/v1/auth/me", headers=h)).json()["two_factor_enabled"] is False
