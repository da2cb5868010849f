"""Paid and subscribers-only videos: playback only for the owner, buyers Stripe confirmed, and subscribers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.payments.helpers import creator, key, pay, settle
from tests.integration.payments.test_subscriptions import confirm, make_tier, subscribe
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import Actor, signup
from tests.integration.video.helpers import path_of, upload, wait_status
from tests.support import media
from tests.support.stripe.server import StripeStandin

BUY = "/api/v1/payments/purchases"
PRICE = {"amount": 400, "currency": "usd"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path: Path = media.clip(tmp_path_factory.mktemp("paid") / "clip.mp4", seconds=1.0, audio=False)
    return path.read_bytes()


async def ready_video(owner: Actor, data: bytes, **fields: Any) -> dict[str, Any]:
    video = await upload(owner, data, **fields)
    done = await wait_status(owner, video["id"])
    assert done["status"] == "ready", done
    return done  # type: ignore[no-any-return]


async def playback(user: Actor, video_id: str) -> Any:
    return await user.get(f"/api/v1/videos/{video_id}/playback")


async def plays(client: Any, user: Actor, video_id: str) -> bool:
    """The viewer gets a playback URL and its master playlist opens."""
    res = await playback(user, video_id)
    if res.status_code != 200:
        return False
    return bool((await client.get(path_of(res.json()["hls_url"]))).status_code == 200)


async def buy(user: Actor, **target: str) -> Any:
    return await user.client.post(BUY, json=target, headers={**user.headers, **key()})


async def listed(user: Actor, path: str, video_id: str) -> bool:
    res = await user.get(path)
    assert res.status_code == 200, res.text
    return video_id in [v["id"] for v in res.json()["items"]]


async def test_a_paid_video_plays_for_its_owner_and_buyers_until_refunded(
    client: Any, stripe: StripeStandin, clip: bytes
) -> None:
    alice = await creator(client, stripe, "alice")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    video = await ready_video(alice, clip, title="Paid lesson", price=PRICE)
    vid = video["id"]
    assert video["price"] == PRICE and video["locked"] is False and video["thumbnail_url"]
    assert await plays(client, alice, vid)  # the owner, always
    # Others see the teaser (title, price) in lists and on its page, but nothing that plays.
    teaser = (await eve.get(f"/api/v1/videos/{vid}")).json()
    assert teaser["locked"] is True and teaser["price"] == PRICE and teaser["title"] == "Paid lesson"
    assert teaser["thumbnail_url"] is None and teaser["storyboard_url"] is None
    assert await listed(eve, "/api/v1/videos", vid)
    res = await playback(eve, vid)
    assert res.status_code == 402 and res.json()["code"] == "payment_required"
    beat = {"session_id": "eve-session-1", "position": 1.0, "watched": 5.0}
    assert (await eve.post(f"/api/v1/videos/{vid}/views", json=beat)).status_code == 402  # no views of a teaser
    assert (await client.get(f"/media/videos/{vid}/p/master.m3u8")).status_code == 403  # a public video's token
    # Buying: the price is the video's; nothing plays on the client's word, only once Stripe confirms.
    res = await buy(bob, video_id=vid)
    assert res.status_code == 201, res.text
    payment = res.json()
    assert (payment["kind"], payment["amount"], payment["currency"], payment["fee"]) == ("content", 400, "usd", 40)
    assert payment["video_id"] == vid and payment["post_id"] is None
    assert stripe.created("/v1/payment_intents")[-1]["metadata"]["video_id"] == vid
    assert (await playback(bob, vid)).status_code == 402
    await pay(client, stripe, payment)
    assert await plays(client, bob, vid)
    bought = (await bob.get(f"/api/v1/videos/{vid}")).json()
    assert bought["locked"] is False and bought["thumbnail_url"]
    assert (await playback(eve, vid)).status_code == 402  # one buyer unlocks it for nobody else
    assert (await buy(bob, video_id=vid)).status_code == 409
    # A full refund takes the access back.
    res = await alice.post(f"/api/v1/payments/{payment['id']}/refund")
    assert res.status_code == 201, res.text
    await settle(client, stripe)
    assert (await playback(bob, vid)).status_code == 402
    assert (await bob.get(f"/api/v1/videos/{vid}")).json()["locked"] is True


async def test_buying_a_video_refuses_bad_targets(client: Any, stripe: StripeStandin, clip: bytes) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    paid = await ready_video(alice, clip, title="paid", price=PRICE)
    free = await ready_video(alice, clip, title="free")
    hidden = await ready_video(alice, clip, title="hidden", visibility="private", price=PRICE)
    post = await alice.publish("a post")
    cases = [
        (bob, {"video_id": free["id"]}, 422),  # free
        (alice, {"video_id": paid["id"]}, 422),  # one's own
        (bob, {"video_id": hidden["id"]}, 404),  # cannot see it
        (bob, {"video_id": "12345"}, 404),  # no such video
        (bob, {"video_id": paid["id"], "post_id": post["id"]}, 422),  # both
        (bob, {}, 422),  # neither
        (bob, {"video_id": "x1"}, 422),
    ]
    for user, body, status in cases:
        res = await buy(user, **body)
        assert res.status_code == status, (body, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
    assert stripe.created("/v1/payment_intents") == []
    # The owner prices and frees the video; a moderator cannot put a price on it.
    res = await alice.patch(f"/api/v1/videos/{free['id']}", json={"price": {"amount": 900, "currency": "usd"}})
    assert res.status_code == 200 and res.json()["price"]["amount"] == 900
    assert (await playback(bob, free["id"])).status_code == 402
    res = await alice.patch(f"/api/v1/videos/{free['id']}", json={"price": None})
    assert res.status_code == 200 and res.json()["price"] is None
    assert await plays(client, bob, free["id"])
    mod = await signup(client, "mod", role="moderator")
    res = await mod.patch(f"/api/v1/videos/{free['id']}", json={"price": PRICE})
    assert res.status_code == 403
    assert (
        await alice.post("/api/v1/videos", json={"title": "t", "price": {"amount": 0, "currency": "usd"}})
    ).status_code == 422


async def test_subscribers_videos_follow_the_subscription_everywhere(
    client: Any, stripe: StripeStandin, clip: bytes
) -> None:
    alice = await creator(client, stripe, "alice")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    await eve.follow(alice)
    video = await ready_video(alice, clip, title="Backstage rehearsal", visibility="subscribers", tags=["backstage"])
    vid = video["id"]
    places = ["/api/v1/videos", "/api/v1/users/alice/videos", "/api/v1/videos/search?q=rehearsal"]

    async def everywhere(user: Actor) -> list[bool]:
        seen = [await listed(user, p, vid) for p in places]
        return [*seen, (await user.get(f"/api/v1/videos/{vid}")).status_code == 200, await plays(client, user, vid)]

    assert await everywhere(alice) == [True] * 5
    assert await everywhere(bob) == [False] * 5  # before subscribing
    sub = await subscribe(bob, await make_tier(alice, 600))
    await settle(client, stripe)
    assert await everywhere(bob) == [False] * 5  # a subscription Stripe has not been paid for grants nothing
    await confirm(client, stripe, sub)
    assert await everywhere(bob) == [True] * 5
    assert await everywhere(eve) == [False] * 5  # following is not subscribing
    # video:{id} stays the owner's channel (processing and stats), subscriber or not.
    async with connect(client, bob.token) as ws:
        assert (await ws.subscribe(f"video:{vid}"))["type"] == "error"
    res = await bob.delete(f"/api/v1/subscriptions/{sub['id']}?immediately=true")
    assert res.status_code == 200, res.text
    await settle(client, stripe)
    assert await everywhere(bob) == [False] * 5
