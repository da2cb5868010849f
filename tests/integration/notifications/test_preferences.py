"""Notification preferences: type x channel matrix with defaults, quiet hours, time zone."""

from __future__ import annotations

from tests.integration.notifications.helpers import user

TYPES = {
    "follow",
    "follow_request",
    "follow_accepted",
    "like",
    "comment",
    "reply",
    "mention",
    "repost",
    "new_post",
    "live_started",
    "payment_received",
    "subscription_started",
    "payout_paid",
    "system",
    "data_export_ready",  # part 2 of the contract
    "video_ready",  # part 2 of the contract
}


async def test_defaults_cover_every_type_and_channel(client):
    _, h = await user(client, "alice")
    prefs = (await client.get("/api/v1/notifications/preferences", headers=h)).json()
    assert set(prefs["types"]) == TYPES
    assert all(set(c) == {"in_app", "push", "email"} for c in prefs["types"].values())
    assert all(c["in_app"] and c["push"] for c in prefs["types"].values())
    assert prefs["types"]["like"]["email"] is False and prefs["types"]["mention"]["email"] is True
    assert prefs["quiet_hours"] is None and prefs["timezone"] == "UTC" and prefs["push_while_online"] is False


async def test_partial_updates_merge_and_persist(client):
    _, h = await user(client, "alice")
    res = await client.put(
        "/api/v1/notifications/preferences",
        json={
            "types": {"like": {"push": False}},
            "quiet_hours": {"start": "22:30", "end": "07:00"},
            "timezone": "Europe/Madrid",
        },
        headers=h,
    )
    assert res.status_code == 200
    assert res.json()["types"]["like"] == {"in_app": True, "push": False, "email": False}
    res = await client.put("/api/v1/notifications/preferences", json={"types": {"like": {"email": True}}}, headers=h)
    prefs = (await client.get("/api/v1/notifications/preferences", headers=h)).json()
    assert prefs == res.json()
    assert prefs["types"]["like"] == {"in_app": True, "push": False, "email": True}
    assert prefs["quiet_hours"] == {"start": "22:30", "end": "07:00"} and prefs["timezone"] == "Europe/Madrid"
    assert prefs["types"]["follow"] == {"in_app": True, "push": True, "email": True}
    cleared = await client.put(
        "/api/v1/notifications/preferences", json={"quiet_hours": None, "timezone": None}, headers=h
    )
    assert cleared.json()["quiet_hours"] is None and cleared.json()["timezone"] == "UTC"


async def test_bad_preferences_are_422_and_change_nothing(client):
    _, h = await user(client, "alice")
    before = (await client.get("/api/v1/notifications/preferences", headers=h)).json()
    for body in (
        {"types": {"poke": {"push": True}}},
        {"types": {"like": {"sms": True}}},
        {"types": {"like": {"push": "yes"}}},
        {"types": {"like": True}},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "22:00"}},
        {"timezone": "Mars/Olympus"},
        {"push_while_online": "always"},
        {"colour": "blue"},
        {"types": {"like": {"push": False}, "nope": {"push": False}}},
    ):
        res = await client.put("/api/v1/notifications/preferences", json=body, headers=h)
        assert res.status_code == 422, body
        assert res.json()["code"] == "validation_error"
    assert (await client.get("/api/v1/notifications/preferences", headers=h)).json() == before
    assert (await client.get("/api/v1/notifications/preferences")).status_code == 401
