"""The caller's sessions: listed with the current one marked, revocable one by one, own only."""

from __future__ import annotations

from tests.support.accounts import PASSWORD, login, signed_in


async def test_sessions_list_marks_the_current_one_and_holds_no_secrets(client):
    alice = await signed_in(client)
    other = (
        await client.post(
            "/api/v1/auth/login",
            json={"login": "alice", "password": PASSWORD},
            headers={"User-Agent": "AlicePhone/2.0"},
        )
    ).json()
    res = await client.get("/api/v1/auth/sessions", headers=alice["headers"])
    assert res.status_code == 200
    page = res.json()
    assert page["next_cursor"] is None and len(page["items"]) == 2
    current = [s for s in page["items"] if s["current"]]
    assert len(current) == 1
    assert {s["user_agent"] for s in page["items"] if not s["current"]} == {"AlicePhone/2.0"}
    text = res.text
    for secret in (alice["access_token"], alice["refresh_token"], other["refresh_token"], other["access_token"]):
        assert secret not in text
    assert set(page["items"][0]) == {"id", "current", "ip", "user_agent", "created_at", "last_used_at", "expires_at"}


async def test_revoking_a_session_stops_its_tokens_but_not_the_callers(client):
    alice = await signed_in(client)
    phone = (await login(client)).json()
    phone_headers = {"Authorization": f"Bearer {phone['access_token']}"}
    items = (await client.get("/api/v1/auth/sessions", headers=alice["headers"])).json()["items"]
    phone_id = next(s["id"] for s in items if not s["current"])

    res = await client.delete(f"/api/v1/auth/sessions/{phone_id}", headers=alice["headers"])
    assert res.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=phone_headers)).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=alice["headers"])).status_code == 200
    remaining = (await client.get("/api/v1/auth/sessions", headers=alice["headers"])).json()["items"]
    assert [s["current"] for s in remaining] == [True]
    # Already revoked: gone.
    again = await client.delete(f"/api/v1/auth/sessions/{phone_id}", headers=alice["headers"])
    assert again.status_code == 404 and again.json()["code"] == "not_found"


async def test_another_users_session_is_404_and_stays_alive(client):
    alice = await signed_in(client)
    bob = await signed_in(client, "bob")
    bob_sessions = (await client.get("/api/v1/auth/sessions", headers=bob["headers"])).json()["items"]
    res = await client.delete(f"/api/v1/auth/sessions/{bob_sessions[0]['id']}", headers=alice["headers"])
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert (await client.get("/api/v1/auth/me", headers=bob["headers"])).status_code == 200
    for garbage in ("abc", "-1", "99999999999999999999999", "0"):
        bad = await client.delete(f"/api/v1/auth/sessions/{garbage}", headers=alice["headers"])
        assert bad.status_code == 404, garbage


async def test_sessions_need_auth_and_page_with_cursors(client):
    assert (await client.get("/api/v1/auth/sessions")).status_code == 401
    alice = await signed_in(client)
    for _ in range(2):
        await login(client)
    first = (await client.get("/api/v1/auth/sessions?limit=2", headers=alice["headers"])).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = await client.get(
        "/api/v1/auth/sessions", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice["headers"]
    )
    rest = second.json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert not {s["id"] for s in first["items"]} & {s["id"] for s in rest["items"]}
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "not-a-cursor!"}, {"cursor": "aWQ6eA"}):
        bad = await client.get("/api/v1/auth/sessions", params=params, headers=alice["headers"])
        assert bad.status_code == 422, params
        assert bad.json()["code"] == "validation_error"
