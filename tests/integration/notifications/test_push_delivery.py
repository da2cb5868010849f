"""Push delivery through the job queue to local FCM, APNs and Web Push stand-ins speaking the real protocols."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from server import events
from tests.integration.notifications.helpers import (
    apns_token,
    drain,
    fcm_token,
    fire,
    jobs_of,
    member,
    subscription,
    user,
)

POST = 4242


async def _register(client, headers, platform, token, **extra):
    res = await client.post(
        "/api/v1/push-tokens", json={"platform": platform, "token": token, **extra}, headers=headers
    )
    assert res.status_code == 201, res.text
    return res.json()


async def _tokens(client, headers):
    return [t["token"] for t in (await client.get("/api/v1/push-tokens", headers=headers)).json()["items"]]


async def _make_due(task: str = "notifications.send") -> None:
    from models.outbox import OutboxEvent

    await OutboxEvent.raw(
        "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = {} AND status = 'todo'", task
    )


async def test_fcm_v1_wire_format_and_cached_oauth_token(app, client, push_env):
    http = push_env.http
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await drain(app)

    [sent] = http.requests
    assert sent.path == "/v1/projects/sf-test-project/messages:send"
    assert sent.headers["content-type"] == "application/json"
    message = sent.json()["message"]
    assert message["token"] == fcm_token(1)
    assert message["notification"] == {"title": "Social Flow", "body": "bob liked your post"}
    assert message["android"]["collapse_key"] == f"like:post:{POST}"
    assert message["data"]["type"] == "like" and message["data"]["group_key"] == f"like:post:{POST}"
    assert sent.headers["authorization"] == "Bearer ya29.standin-1"
    assert len(http.token_requests) == 1

    await fire(client, events.Commented(actor_id=int(bob), post_id=POST, post_author_id=int(alice), comment_id=9))
    await drain(app)
    assert [r.json()["message"]["notification"]["body"] for r in http.requests][1] == "bob commented on your post"
    assert len(http.token_requests) == 1  # the access token was reused, not fetched again
    assert await jobs_of("notifications.send") == []  # done jobs are deleted


async def test_apns_http2_provider_token_and_headers(app, client, push_env):
    apns = push_env.apns
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "apns", apns_token(3), environment="sandbox")
    await fire(client, events.Followed(actor_id=int(bob), target_id=int(alice)))
    await drain(app)

    [sent] = apns.requests
    assert sent.headers[":method"] == "POST" and sent.path == f"/3/device/{apns_token(3)}"
    assert sent.headers["apns-topic"] == "app.socialflow.ios"
    assert sent.headers["apns-push-type"] == "alert" and sent.headers["apns-priority"] == "10"
    assert sent.headers["apns-collapse-id"].startswith("follow:")
    scheme, token = sent.headers["authorization"].split(" ")
    assert scheme == "bearer"
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "ABC123DEFG", "typ": "JWT"}
    claims = jwt.decode(token, push_env.keys.apns_key.public_key(), algorithms=["ES256"])
    assert claims["iss"] == "TEAM123456" and abs(claims["iat"] - datetime.now(UTC).timestamp()) < 3600
    body = sent.json()
    assert body["aps"]["alert"] == {"title": "Social Flow", "body": "bob followed you"}
    assert body["aps"]["badge"] == 1


async def test_webpush_vapid_and_rfc8291_payload_decrypts(app, client, push_env):
    http = push_env.http
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    sub, private_key, auth = subscription(http.base, "browser-1")
    await _register(client, alice_h, "webpush", sub)
    await fire(
        client, events.PostPublished(actor_id=int(bob), post_id=55, visibility="public", mentioned_ids=(int(alice),))
    )
    await drain(app)

    [sent] = http.requests
    assert sent.path == "/wp/browser-1"
    assert sent.headers["content-encoding"] == "aes128gcm" and int(sent.headers["ttl"]) > 0
    assert len(sent.headers["topic"]) <= 32
    t, k = (part.split("=", 1)[1] for part in sent.headers["authorization"].removeprefix("vapid ").split(", "))
    raw = base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))
    vapid_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    claims = jwt.decode(t, vapid_public, algorithms=["ES256"], audience=http.base)
    assert claims["sub"] == "mailto:ops@socialflow.test" and claims["exp"] > datetime.now(UTC).timestamp()
    plain = http_ece.decrypt(sent.body, private_key=private_key, auth_secret=auth, version="aes128gcm")
    payload = json.loads(plain)
    assert payload["title"] == "Social Flow" and payload["body"] == "bob mentioned you"
    assert payload["data"]["type"] == "mention"


async def test_429_retry_after_is_honoured_then_delivered(app, client, push_env):
    http = push_env.http
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    http.script(fcm_token(1), (429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, {"Retry-After": "120"}))
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await drain(app)

    [job] = await jobs_of("notifications.send")
    assert job["status"] == "todo" and job["attempts"] == 1
    assert job["scheduled_at"] >= datetime.now(UTC) + timedelta(seconds=110)
    await drain(app)
    assert len(http.requests) == 1  # not before Retry-After
    await _make_due()
    await drain(app)
    assert len(http.requests) == 2 and await jobs_of("notifications.send") == []
    assert await _tokens(client, alice_h) == [fcm_token(1)]


async def test_5xx_backs_off_exponentially_then_gives_up_keeping_the_token(app, client, push_env):
    apns = push_env.apns
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "apns", apns_token(9))
    apns.script(apns_token(9), *[(500, {"reason": "InternalServerError"}, {})] * 3)
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    delays = []  # (earliest, latest) the retry can be after its failed attempt, whenever in the drain that failed
    for _ in range(3):
        before = datetime.now(UTC)
        await drain(app)
        after = datetime.now(UTC)
        [job] = await jobs_of("notifications.send")
        if job["status"] == "todo":
            at = job["scheduled_at"]
            delays.append(((at - after).total_seconds(), (at - before).total_seconds()))
            await _make_due()
    # PUSH_BACKOFF_BASE=4: first retry in [2, 4] s, second in [4, 8] s (full jitter on the upper half); measured
    # from the attempt, which failed somewhere between `before` and `after` (a slow drain on a busy machine).
    (first_min, first_max), (second_min, second_max) = delays
    assert 1 <= first_max and first_min <= 5 and 3 <= second_max and second_min <= 9
    assert job["status"] == "failed" and len(apns.requests) == 3  # PUSH_MAX_ATTEMPTS=3
    assert await _tokens(client, alice_h) == [apns_token(9)]


async def test_dead_tokens_are_pruned_on_permanent_errors(app, client, push_env):
    http, apns = push_env.http, push_env.apns
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    unregistered = {
        "error": {
            "code": 404,
            "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}],
        }
    }
    invalid = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": []}}
    http.script(fcm_token(1), (404, unregistered, {}))
    http.script(fcm_token(2), (400, invalid, {}))  # the message's fault, not the token's: kept
    apns.script(apns_token(1), (410, {"reason": "Unregistered", "timestamp": 1700000000000}, {}))
    apns.script(apns_token(2), (400, {"reason": "BadDeviceToken"}, {}))
    http.script("gone-410", (410, b"", {}))
    http.script("gone-404", (404, b"", {}))
    for token in (fcm_token(1), fcm_token(2)):
        await _register(client, alice_h, "fcm", token)
    for token in (apns_token(1), apns_token(2)):
        await _register(client, alice_h, "apns", token)
    for name in ("gone-410", "gone-404"):
        await _register(client, alice_h, "webpush", subscription(http.base, name)[0])
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await drain(app)
    assert len(http.requests) == 4 and len(apns.requests) == 2
    assert await _tokens(client, alice_h) == [fcm_token(2)]
    assert await jobs_of("notifications.send") == []


async def test_burst_of_likes_is_one_push_per_device_per_window(app, client, push_env):
    http, apns = push_env.http, push_env.apns
    alice, alice_h = await user(client, "alice")
    likers = [await member(f"fan{i}") for i in range(4)]
    await _register(client, alice_h, "fcm", fcm_token(1))
    await _register(client, alice_h, "apns", apns_token(1))
    await asyncio.gather(
        *(fire(client, events.Liked(actor_id=int(uid), post_id=POST, post_author_id=int(alice))) for uid in likers)
    )
    assert len(await jobs_of("notifications.push")) == 1
    await drain(app)
    assert len(http.requests) == 1 and len(apns.requests) == 1
    assert http.requests[0].json()["message"]["notification"]["body"].endswith("and 3 others liked your post")
    assert apns.requests[0].json()["aps"]["alert"]["body"].endswith("and 3 others liked your post")

    late = await member("latecomer")
    await fire(client, events.Liked(actor_id=int(late), post_id=POST, post_author_id=int(alice)))
    await drain(app)
    assert len(http.requests) == 2 and len(apns.requests) == 2
    assert http.requests[1].json()["message"]["notification"]["body"] == "latecomer and 4 others liked your post"


@pytest.mark.parametrize("push_changes", [{"collapse_seconds": 60.0}])  # the app's PUSH_COLLAPSE_SECONDS
async def test_collapse_window_delays_the_group_push(app, client, push_env):
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    before = datetime.now(UTC)
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await fire(client, events.Followed(actor_id=int(bob), target_id=int(alice)))  # not a grouped-by-subject type
    await drain(app)
    [like_job] = await jobs_of("notifications.push")
    assert like_job["scheduled_at"] >= before + timedelta(seconds=59)
    assert [r.json()["message"]["data"]["type"] for r in push_env.http.requests] == ["follow"]


async def test_quiet_hours_hold_pushes_until_they_end_in_users_zone(app, client, push_env):
    from zoneinfo import ZoneInfo

    http = push_env.http
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    local = datetime.now(ZoneInfo("Asia/Tokyo")).replace(second=0, microsecond=0)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    res = await client.put(
        "/api/v1/notifications/preferences",
        json={
            "timezone": "Asia/Tokyo",
            "quiet_hours": {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")},
        },
        headers=alice_h,
    )
    assert res.status_code == 200, res.text
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await drain(app)
    assert http.requests == []
    [job] = await jobs_of("notifications.push")
    assert job["status"] == "todo" and job["scheduled_at"] == end.astimezone(UTC)
    # In-app still shows it at once.
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 1}

    await client.put("/api/v1/notifications/preferences", json={"quiet_hours": None}, headers=alice_h)
    await _make_due("notifications.push")
    await drain(app)
    assert len(http.requests) == 1


async def test_no_push_while_online_unless_always(app, client, push_env):
    from tests.integration.realtime.helpers import connect

    http = push_env.http
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    async with connect(client, alice_h["Authorization"].removeprefix("Bearer ")):
        await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
        await drain(app)
        assert http.requests == []
        await client.put("/api/v1/notifications/preferences", json={"push_while_online": True}, headers=alice_h)
        await fire(client, events.Followed(actor_id=int(bob), target_id=int(alice)))
        await drain(app)
        assert [r.json()["message"]["data"]["type"] for r in http.requests] == ["follow"]


async def test_preferences_switch_push_and_in_app_off(app, client, push_env):
    http = push_env.http
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    await client.put(
        "/api/v1/notifications/preferences",
        json={"types": {"like": {"push": False}, "follow": {"in_app": False}}},
        headers=alice_h,
    )
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await fire(client, events.Followed(actor_id=int(bob), target_id=int(alice)))
    await drain(app)
    assert http.requests == []
    items = (await client.get("/api/v1/notifications", headers=alice_h)).json()["items"]
    assert [n["type"] for n in items] == ["like"]


async def test_read_before_the_push_runs_sends_nothing(app, client, push_env):
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await _register(client, alice_h, "fcm", fcm_token(1))
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
    await client.post("/api/v1/notifications/read", json={"all": True}, headers=alice_h)
    await drain(app)
    assert push_env.http.requests == []
