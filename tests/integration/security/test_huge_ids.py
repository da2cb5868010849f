"""Ids past the bigint range are bad input or unknown objects, never a 500 (schemathesis found these)."""

from __future__ import annotations

import pytest

from tests.integration.social.helpers import signup

API = "/api/v1"
HUGE = str(1 << 70)


@pytest.fixture
async def app(clean_db, redis_client, settings):
    """Payments configured (their ids are typed integers), pointed at a Stripe that is not there."""
    from tests.support.apps import app_for
    from tests.support.settings import derive

    stripe = {"payments.secret_key": "sk_test_ids", "payments.webhook_secret": "whsec_ids"}
    return app_for(derive(settings, **stripe, **{"payments.api_base": "http://127.0.0.1:9"}))


async def test_payment_and_subscription_ids_past_bigint_are_refused(client):
    alice = await signup(client, "alice")
    for method, path in (
        ("GET", f"{API}/payments/{HUGE}"),
        ("POST", f"{API}/payments/{HUGE}/refund"),
        ("GET", f"{API}/subscriptions/{HUGE}"),
        ("PATCH", f"{API}/subscriptions/{HUGE}"),
        ("DELETE", f"{API}/subscriptions/{HUGE}"),
    ):
        body = {"tier_id": "1"} if method == "PATCH" else {} if method == "POST" else None
        res = await client.request(method, path, headers=alice.headers, json=body)
        assert res.status_code in (400, 422), (method, path, res.status_code, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")


async def test_a_video_file_under_an_id_past_bigint_is_not_found(client):
    res = await client.get(f"/media/videos/{HUGE}/p/master.m3u8")
    assert res.status_code == 404, res.text


async def test_editing_a_repost_is_a_documented_409(client):
    """The OpenAPI document lists what the route answers (schemathesis checks every status against it)."""
    alice, bob = await signup(client, "alice"), await signup(client, "bob")
    original = await alice.publish("hello")
    res = await bob.post(f"{API}/posts/{original['id']}/repost")
    assert res.status_code == 201, res.text
    again = await bob.post(f"{API}/posts/{original['id']}/repost")
    assert again.status_code == 200 and again.json()["id"] == res.json()["id"]
    edit = await bob.patch(f"{API}/posts/{res.json()['id']}", json={"text": "changed"})
    assert edit.status_code == 409, edit.text
    doc = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "409" in doc["/api/v1/posts/{post_id}"]["patch"]["responses"]
    assert "200" in doc["/api/v1/posts/{post_id}/repost"]["post"]["responses"]
