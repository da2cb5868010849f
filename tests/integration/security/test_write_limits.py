"""Finding 7: per-user write limits (429 with Retry-After), capped mentions, paginated edit history."""

from __future__ import annotations

import pytest

from server.settings import Limit
from tests.integration.notifications.helpers import subscription
from tests.integration.social.helpers import signup, users
from tests.support.accounts import app_with

API = "/api/v1"


@pytest.fixture
async def app(clean_db, redis_client, settings):
    return app_with(
        settings,
        **{
            "rate_limits.write_posts": Limit(3, 600),
            "rate_limits.write_comments": Limit(2, 600),
            "rate_limits.write_edits": Limit(2, 600),
            "rate_limits.write_likes": Limit(2, 600),
            "rate_limits.write_follows": Limit(2, 600),
            "rate_limits.write_reports": Limit(1, 600),
            "rate_limits.write_uploads": Limit(1, 600),
            "rate_limits.write_push_tokens": Limit(1, 600),
        },
    )


def limited(res):
    assert res.status_code == 429, res.text
    assert res.json()["code"] == "rate_limited" and int(res.headers["retry-after"]) >= 1
    return True


async def test_each_kind_of_write_is_limited_per_user(client):
    alice, bob, carol, dave = await users(client, "alice", "bob", "carol", "dave")
    posts = [await alice.publish(f"post {i}") for i in range(3)]
    assert limited(await alice.post(f"{API}/posts", json={"text": "one too many"}))
    assert (await bob.post(f"{API}/posts", json={"text": "bob is not limited by alice"})).status_code == 201

    pid = posts[0]["id"]
    for i in range(2):
        assert (await bob.post(f"{API}/posts/{pid}/comments", json={"text": f"c{i}"})).status_code == 201
    assert limited(await bob.post(f"{API}/posts/{pid}/comments", json={"text": "c3"}))

    for i in range(2):
        assert (await alice.patch(f"{API}/posts/{pid}", json={"text": f"edit {i}"})).status_code == 200
    assert limited(await alice.patch(f"{API}/posts/{pid}", json={"text": "edit 3"}))

    for p in posts[:2]:
        assert (await carol.post(f"{API}/posts/{p['id']}/like")).status_code == 200
    assert limited(await carol.post(f"{API}/posts/{posts[2]['id']}/like"))

    for other in ("alice", "bob"):
        assert (await dave.post(f"{API}/users/{other}/follow")).status_code == 200
    assert limited(await dave.post(f"{API}/users/carol/follow"))

    report = {"target_type": "post", "target_id": pid, "reason": "spam"}
    first = await carol.post(f"{API}/reports", json=report)
    assert first.status_code == 201, first.text
    assert limited(await carol.post(f"{API}/reports", json=report))

    sub, _, _ = subscription("https://push.example.net", "a")
    assert (await dave.post(f"{API}/push-tokens", json={"platform": "webpush", "token": sub})).status_code == 201
    sub2, _, _ = subscription("https://push.example.net", "b")
    assert limited(await dave.post(f"{API}/push-tokens", json={"platform": "webpush", "token": sub2}))

    png = _png()
    files = {"data": ("a.png", png, "image/png")}
    assert (await bob.post(f"{API}/posts/media", files=files)).status_code == 201
    assert limited(await bob.post(f"{API}/posts/media", files=files))


async def test_mentions_are_capped(client):
    alice = await signup(client, "alice")
    text = " ".join(f"@user{i}" for i in range(11))
    res = await alice.post(f"{API}/posts", json={"text": text})
    assert res.status_code == 422 and res.json()["code"] == "validation_error"
    ok = await alice.post(f"{API}/posts", json={"text": " ".join(f"@user{i}" for i in range(10))})
    assert ok.status_code == 201


async def test_edit_history_is_a_page(client):
    alice = await signup(client, "alice")
    post = await alice.publish("v0")
    for i in range(1, 3):
        assert (await alice.patch(f"{API}/posts/{post['id']}", json={"text": f"v{i}"})).status_code == 200
    page = (await client.get(f"{API}/posts/{post['id']}/history", params={"limit": 1})).json()
    assert [e["text"] for e in page["items"]] == ["v0"] and page["next_cursor"]
    rest = (
        await client.get(f"{API}/posts/{post['id']}/history", params={"limit": 1, "cursor": page["next_cursor"]})
    ).json()
    assert [e["text"] for e in rest["items"]] == ["v1"]
    assert (await client.get(f"{API}/posts/{post['id']}/history", params={"limit": 0})).status_code == 422


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def media_app(clean_db, redis_client, settings):
    """Tight limits for the video, live and payment writes (payments answer 503 here: Stripe is not set)."""
    return app_with(
        settings,
        **{
            "rate_limits.write_posts": Limit(1, 600),
            "rate_limits.write_edits": Limit(2, 600),
            "rate_limits.write_uploads": Limit(1, 600),
            "rate_limits.write_reports": Limit(1, 600),
            "rate_limits.write_likes": Limit(1, 600),
            "rate_limits.write_moderation": Limit(2, 600),
            "rate_limits.write_payments": Limit(1, 600),
        },
    )


async def test_video_live_and_payment_writes_are_limited_per_user(media_app):
    from tests.integration.video.helpers import creator
    from tests.support.asgi import in_process_client

    async with in_process_client(media_app) as client:
        cara = await creator(client)
        bob, dan = await users(client, "bob", "dan")

        video = await cara.post(f"{API}/videos", json={"title": "clip", "visibility": "public"})
        assert video.status_code == 201, video.text
        assert limited(await cara.post(f"{API}/videos", json={"title": "another", "visibility": "public"}))
        vid = video.json()["id"]
        for title in ("edit 1", "edit 2"):
            assert (await cara.patch(f"{API}/videos/{vid}", json={"title": title})).status_code == 200
        assert limited(await cara.patch(f"{API}/videos/{vid}", json={"title": "edit 3"}))
        # the guard counts before the handler looks at the video: a script probing ids is limited too
        assert (await bob.post(f"{API}/videos/{vid}/like")).status_code in (404, 409)
        assert limited(await bob.post(f"{API}/videos/{vid}/like"))
        assert (await bob.post(f"{API}/videos/{vid}/report", json={"reason": "spam"})).status_code in (201, 404)
        assert limited(await bob.post(f"{API}/videos/{vid}/report", json={"reason": "spam"}))

        stream = await cara.post(f"{API}/live", json={"title": "hello"})
        assert stream.status_code == 201, stream.text
        assert limited(await cara.post(f"{API}/live", json={"title": "again"}))
        sid = stream.json()["id"]
        # cara's edits were used up on the video: key rotation is an edit too
        assert limited(await cara.post(f"{API}/live/{sid}/key"))
        assert (await cara.post(f"{API}/live/{sid}/bans", json={"username": "bob"})).status_code == 201
        assert (await cara.delete(f"{API}/live/{sid}/bans/bob")).status_code == 204
        assert limited(await cara.post(f"{API}/live/{sid}/bans", json={"username": "bob"}))

        tip = {"recipient": "cara", "amount": 500, "currency": "usd"}
        first = await client.post(f"{API}/payments/tips", json=tip, headers={**dan.headers, "Idempotency-Key": "tip-1"})
        assert first.status_code == 503 and first.json()["code"] == "payments_unavailable", first.text
        assert limited(
            await client.post(f"{API}/payments/tips", json=tip, headers={**dan.headers, "Idempotency-Key": "tip-2"})
        )
        # another user's budget is their own
        assert (
            await client.post(f"{API}/payments/tips", json=tip, headers={**bob.headers, "Idempotency-Key": "tip-3"})
        ).status_code == 503
