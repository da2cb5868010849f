"""Roles, suspension and the audit log, as admins (and everyone else) see them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pyotp

from tests.support.accounts import PASSWORD, bearer, login, make_admin, signed_in

ROOT = Path(__file__).resolve().parents[3]


async def _admin_and_user(client):
    root = await signed_in(client, "root")
    await make_admin("root")
    bob = await signed_in(client, "bob")
    return root, bob


async def test_non_admins_get_403_and_anonymous_401(client):
    _, bob = await _admin_and_user(client)
    calls = [
        ("GET", f"/api/v1/admin/users/{bob['id']}", None),
        ("PUT", f"/api/v1/admin/users/{bob['id']}/role", {"role": "admin"}),
        ("POST", f"/api/v1/admin/users/{bob['id']}/suspend", {}),
        ("POST", f"/api/v1/admin/users/{bob['id']}/unsuspend", None),
        ("GET", "/api/v1/admin/audit", None),
    ]
    for method, path, body in calls:
        res = await client.request(method, path, json=body, headers=bob["headers"])
        assert res.status_code == 403, path
        assert res.json()["code"] == "forbidden"
        assert (await client.request(method, path, json=body)).status_code == 401
    me = (await client.get("/api/v1/auth/me", headers=bob["headers"])).json()
    assert me["role"] == "user"


async def test_role_changes_apply_to_live_sessions_at_once(client):
    root, bob = await _admin_and_user(client)
    res = await client.put(f"/api/v1/admin/users/{bob['id']}/role", json={"role": "moderator"}, headers=root["headers"])
    assert res.status_code == 200 and res.json()["role"] == "moderator"
    # Bob's existing token now carries the new role.
    assert (await client.get("/api/v1/auth/me", headers=bob["headers"])).json()["role"] == "moderator"
    await client.put(f"/api/v1/admin/users/{bob['id']}/role", json={"role": "admin"}, headers=root["headers"])
    assert (await client.get("/api/v1/admin/audit", headers=bob["headers"])).status_code == 200
    await client.put(f"/api/v1/admin/users/{bob['id']}/role", json={"role": "user"}, headers=root["headers"])
    assert (await client.get("/api/v1/admin/audit", headers=bob["headers"])).status_code == 403


async def test_bad_admin_input_is_4xx_and_changes_nothing(client):
    root, bob = await _admin_and_user(client)
    h = root["headers"]
    for body in ({"role": "emperor"}, {"role": 3}, {}, {"role": "admin", "x": 1}):
        res = await client.put(f"/api/v1/admin/users/{bob['id']}/role", json=body, headers=h)
        assert res.status_code == 422, body
    for missing in ("123", "abc", "99999999999999999999"):
        assert (await client.get(f"/api/v1/admin/users/{missing}", headers=h)).status_code == 404
        res = await client.post(f"/api/v1/admin/users/{missing}/suspend", headers=h)
        assert res.status_code == 404 and res.json()["code"] == "not_found"
    own = await client.put(f"/api/v1/admin/users/{root['id']}/role", json={"role": "user"}, headers=h)
    assert own.status_code == 409 and own.json()["code"] == "conflict"
    assert (await client.post(f"/api/v1/admin/users/{root['id']}/suspend", headers=h)).status_code == 409
    assert (await client.get(f"/api/v1/admin/users/{bob['id']}", headers=h)).json()["role"] == "user"
    assert (await client.get("/api/v1/auth/me", headers=h)).json()["role"] == "admin"


async def test_suspension_kills_sessions_and_blocks_login_until_lifted(client):
    root, bob = await _admin_and_user(client)
    res = await client.post(
        f"/api/v1/admin/users/{bob['id']}/suspend", json={"reason": "spam"}, headers=root["headers"]
    )
    assert res.status_code == 200 and res.json()["suspended"] is True
    assert (await client.get("/api/v1/auth/me", headers=bob["headers"])).status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": bob["refresh_token"]})).status_code == 401
    blocked = await login(client, "bob")
    assert blocked.status_code == 403 and blocked.json()["code"] == "forbidden"
    # The suspension is not revealed to someone without the password.
    assert (await login(client, "bob", "wrong password!!")).status_code == 401

    lifted = await client.post(f"/api/v1/admin/users/{bob['id']}/unsuspend", headers=root["headers"])
    assert lifted.status_code == 200 and lifted.json()["suspended"] is False
    assert (await login(client, "bob")).status_code == 200


async def test_audit_log_records_security_events_with_ip_and_user_agent(client):
    ua = {"User-Agent": "AuditTest/1.0"}
    root, bob = await _admin_and_user(client)
    await client.post("/api/v1/auth/login", json={"login": "bob", "password": "wrong password!!"}, headers=ua)
    setup = (await client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=bob["headers"])).json()
    totp = pyotp.TOTP(setup["secret"])
    await client.post(
        "/api/v1/auth/2fa/enable", json={"password": PASSWORD, "otp": totp.now()}, headers={**bob["headers"], **ua}
    )
    await client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": PASSWORD, "otp": totp.at(time.time() + 30)},
        headers=bob["headers"],
    )
    await client.put(f"/api/v1/admin/users/{bob['id']}/role", json={"role": "creator"}, headers=root["headers"])
    await client.post(f"/api/v1/admin/users/{bob['id']}/suspend", json={}, headers=root["headers"])
    await client.post("/api/v1/auth/logout", headers=root["headers"])
    root_id = root["id"]
    root = (await login(client, "root")).json()

    res = await client.get("/api/v1/admin/audit", params={"limit": 100}, headers=bearer(root))
    assert res.status_code == 200
    events = res.json()["items"]
    actions = [e["action"] for e in events]
    for action in ("login", "login_failed", "2fa_enabled", "2fa_disabled", "role_changed", "user_suspended", "logout"):
        assert action in actions, action
    failed = next(e for e in events if e["action"] == "login_failed")
    assert failed["user_id"] == bob["id"] and failed["user_agent"] == "AuditTest/1.0" and failed["ip"]
    role = next(e for e in events if e["action"] == "role_changed")
    assert role["actor_id"] == root_id and role["user_id"] == bob["id"]
    assert role["details"] == {"old": "user", "new": "creator"}
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), key=int, reverse=True)
    assert "wrong password" not in res.text and PASSWORD not in res.text

    only_bob = await client.get(
        "/api/v1/admin/audit", params={"user_id": bob["id"], "action": "2fa_enabled"}, headers=bearer(root)
    )
    assert [e["action"] for e in only_bob.json()["items"]] == ["2fa_enabled"]


async def test_audit_log_pages_with_cursors(client):
    root, _ = await _admin_and_user(client)
    for _ in range(3):
        await login(client, "bob", "wrong password!!")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/admin/audit", params=params, headers=root["headers"])).json()
        assert len(page["items"]) <= 2
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 5  # two logins and three failures
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "%%%"}, {"action": "nope"}, {"user_id": "x"}):
        bad = await client.get("/api/v1/admin/audit", params=params, headers=root["headers"])
        assert bad.status_code == 422, params


async def test_create_admin_cli_makes_an_admin_who_can_log_in(client, services):
    env = {**os.environ, "DATABASE_URL": services["database_url"]}
    proc = subprocess.run(
        [sys.executable, "-m", "server", "create-admin", "boss", "boss@example.com", "--password", PASSWORD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    tokens = (await login(client, "boss")).json()
    me = (await client.get("/api/v1/auth/me", headers=bearer(tokens))).json()
    assert me["role"] == "admin" and me["email_verified"] is True
    assert (await client.get("/api/v1/admin/audit", headers=bearer(tokens))).status_code == 200
