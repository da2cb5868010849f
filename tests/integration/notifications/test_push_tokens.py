"""Push token registration: per-platform validation, dedupe, moving between users, caps, ownership."""

from __future__ import annotations

from tests.integration.notifications.helpers import apns_token, fcm_token, subscription, user


async def test_register_each_platform_and_list_own(client):
    _, h = await user(client, "alice")
    fcm = await client.post(
        "/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(1), "device_id": "pixel"}, headers=h
    )
    assert fcm.status_code == 201
    body = fcm.json()
    assert body["platform"] == "fcm" and body["token"] == fcm_token(1) and body["device_id"] == "pixel"
    assert body["last_seen_at"] and isinstance(body["id"], str)
    apns = await client.post(
        "/api/v1/push-tokens",
        json={"platform": "apns", "token": apns_token(7).upper(), "environment": "sandbox"},
        headers=h,
    )
    assert apns.status_code == 201 and apns.json()["token"] == apns_token(7) and apns.json()["environment"] == "sandbox"
    sub, _, _ = subscription("https://push.example.net", "abc")
    wp = await client.post("/api/v1/push-tokens", json={"platform": "webpush", "token": sub}, headers=h)
    assert wp.status_code == 201 and wp.json()["token"] == "https://push.example.net/wp/abc"
    listed = (await client.get("/api/v1/push-tokens", headers=h)).json()
    assert {t["platform"] for t in listed["items"]} == {"fcm", "apns", "webpush"} and listed["next_cursor"] is None


async def test_same_token_twice_is_one_registration_with_fresh_last_seen(client):
    _, h = await user(client, "alice")
    first = (
        await client.post("/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(1)}, headers=h)
    ).json()
    again = await client.post("/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(1)}, headers=h)
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert again.json()["last_seen_at"] > first["last_seen_at"]
    assert len((await client.get("/api/v1/push-tokens", headers=h)).json()["items"]) == 1


async def test_token_moves_to_the_user_who_registers_it_last(client):
    _, alice_h = await user(client, "alice")
    _, bob_h = await user(client, "bob")
    await client.post("/api/v1/push-tokens", json={"platform": "apns", "token": apns_token(1)}, headers=alice_h)
    moved = await client.post("/api/v1/push-tokens", json={"platform": "apns", "token": apns_token(1)}, headers=bob_h)
    assert moved.status_code == 201
    assert (await client.get("/api/v1/push-tokens", headers=alice_h)).json()["items"] == []
    assert [t["token"] for t in (await client.get("/api/v1/push-tokens", headers=bob_h)).json()["items"]] == [
        apns_token(1)
    ]


async def test_new_token_for_same_device_replaces_old_and_cap_evicts_least_recent(client, monkeypatch):
    _, h = await user(client, "alice")
    await client.post(
        "/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(1), "device_id": "d1"}, headers=h
    )
    await client.post(
        "/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(2), "device_id": "d1"}, headers=h
    )
    assert [t["token"] for t in (await client.get("/api/v1/push-tokens", headers=h)).json()["items"]] == [fcm_token(2)]
    for n in range(3, 25):
        res = await client.post("/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(n)}, headers=h)
        assert res.status_code == 201
    tokens = [t["token"] for t in (await client.get("/api/v1/push-tokens", headers=h)).json()["items"]]
    assert len(tokens) == 20  # the default PUSH_TOKENS_PER_USER
    assert fcm_token(24) in tokens and fcm_token(2) not in tokens and fcm_token(4) not in tokens


async def test_delete_own_only(client):
    _, alice_h = await user(client, "alice")
    _, bob_h = await user(client, "bob")
    tid = (
        await client.post("/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(1)}, headers=alice_h)
    ).json()["id"]
    for bad in (tid, "12345", "not-a-number", "9999999999999999999"):
        res = await client.delete(f"/api/v1/push-tokens/{bad}", headers=bob_h)
        assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert len((await client.get("/api/v1/push-tokens", headers=alice_h)).json()["items"]) == 1
    assert (await client.delete(f"/api/v1/push-tokens/{tid}", headers=alice_h)).status_code == 204
    assert (await client.get("/api/v1/push-tokens", headers=alice_h)).json()["items"] == []
    assert (await client.get("/api/v1/push-tokens")).status_code == 401


async def test_bad_registrations_are_422_and_store_nothing(client):
    _, h = await user(client, "alice")
    sub, _, _ = subscription("https://push.example.net", "abc")
    bad_bodies = [
        {"platform": "sms", "token": fcm_token(1)},
        {"platform": "fcm", "token": "short"},
        {"platform": "fcm", "token": "has spaces " + "x" * 100},
        {"platform": "fcm", "token": sub},
        {"platform": "fcm", "token": fcm_token(1), "environment": "sandbox"},
        {"platform": "apns", "token": "zz" * 32},
        {"platform": "apns", "token": "ab" * 31},
        {"platform": "apns", "token": apns_token(1), "environment": "staging"},
        {"platform": "webpush", "token": "not a subscription"},
        {"platform": "webpush", "token": {**sub, "endpoint": "http://push.example.net/wp/1"}},
        {"platform": "webpush", "token": {**sub, "endpoint": "ftp://push.example.net/wp/1"}},
        {"platform": "webpush", "token": {"endpoint": sub["endpoint"]}},
        {"platform": "webpush", "token": {**sub, "keys": {"p256dh": "AAAA", "auth": sub["keys"]["auth"]}}},
        {"platform": "webpush", "token": {**sub, "keys": {"p256dh": sub["keys"]["p256dh"], "auth": "AAAA"}}},
        {"platform": "webpush", "token": {**sub, "keys": {"p256dh": "!!!", "auth": sub["keys"]["auth"]}}},
        {"platform": "fcm"},
        {"platform": "fcm", "token": 12},
        {"platform": "fcm", "token": fcm_token(1), "extra": 1},
    ]
    for body in bad_bodies:
        res = await client.post("/api/v1/push-tokens", json=body, headers=h)
        assert res.status_code == 422, (body, res.text)
        assert res.json()["code"] == "validation_error"
    malformed = await client.post(
        "/api/v1/push-tokens", content=b"{nope", headers={**h, "content-type": "application/json"}
    )
    assert malformed.status_code in (400, 422)
    assert (await client.get("/api/v1/push-tokens", headers=h)).json()["items"] == []


async def test_vapid_key_is_published(client):
    res = await client.get("/api/v1/push-tokens/vapid-key")
    assert res.status_code == 200 and len(res.json()["public_key"]) == 87
