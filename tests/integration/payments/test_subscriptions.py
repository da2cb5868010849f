"""Tiers and subscriptions: access to subscribers-only posts follows Stripe's invoices and subscription."""

from __future__ import annotations

from typing import Any

from tests.integration.payments.helpers import creator, earnings, key, settle, stripe_post
from tests.integration.social.helpers import Actor, signup
from tests.support.stripe.server import StripeStandin


async def make_tier(user: Actor, amount: int = 500, name: str = "Fan", interval: str = "month") -> dict[str, Any]:
    body = {"name": name, "amount": amount, "currency": "usd", "interval": interval}
    res = await user.client.post("/api/v1/creators/me/tiers", json=body, headers={**user.headers, **key()})
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


async def subscribe(fan: Actor, tier: dict[str, Any], trial_days: int = 0) -> dict[str, Any]:
    body = {"tier_id": tier["id"], "trial_days": trial_days}
    res = await fan.client.post("/api/v1/subscriptions", json=body, headers={**fan.headers, **key()})
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


async def confirm(client: Any, stripe: StripeStandin, sub: dict[str, Any]) -> None:
    intent = sub["client_secret"].split("_secret_")[0]
    status, _ = await stripe_post(stripe, f"/v1/payment_intents/{intent}/confirm", payment_method="pm_card_visa")
    assert status == 200
    await settle(client, stripe)


async def sees(user: Actor, post_id: str) -> bool:
    return (await user.get(f"/api/v1/posts/{post_id}")).status_code == 200


async def stripe_sub_id(sub: dict[str, Any]) -> str:
    from server import sql

    return str(await sql.fetchval("SELECT subscription_id FROM fan_subscriptions WHERE id = $1", int(sub["id"])))


async def test_subscribe_pay_and_see_subscriber_posts_everywhere(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    await bob.follow(alice)
    await eve.follow(alice)
    tier = await make_tier(alice, 800)
    assert tier["amount"] == 800 and tier["interval"] == "month" and tier["creator"]["username"] == "alice"
    price = stripe.created("/v1/prices")[-1]
    assert price["unit_amount"] == "800" and price["recurring"]["interval"] == "month"
    assert [t["id"] for t in (await eve.get("/api/v1/users/alice/tiers")).json()] == [tier["id"]]
    post = await alice.publish("for my subscribers #secret", visibility="subscribers")
    sub = await subscribe(bob, tier)
    assert sub["status"] == "incomplete" and sub["client_secret"] and sub["tier"]["id"] == tier["id"]
    await settle(client, stripe)
    assert not await sees(bob, post["id"])  # creating the subscription grants nothing
    await confirm(client, stripe, sub)
    mine = (await bob.get("/api/v1/subscriptions")).json()["items"]
    assert mine[0]["status"] == "active" and mine[0]["access"] is True
    assert await sees(bob, post["id"]) and not await sees(eve, post["id"])
    assert post["id"] in [p["id"] for p in await bob.feed("/api/v1/feeds/home")]
    assert post["id"] not in [p["id"] for p in await eve.feed("/api/v1/feeds/home")]
    assert post["id"] not in [p["id"] for p in await eve.feed("/api/v1/hashtags/secret/posts")]
    assert post["id"] not in [p["id"] for p in await bob.feed("/api/v1/feeds/public")]
    notes = (await alice.get("/api/v1/notifications")).json()["items"]
    assert "subscription_started" in [n["type"] for n in notes]
    fee = 800 * 1000 // 10_000
    assert (await earnings(alice))["by_kind"]["subscription"] == 800 - fee
    # The post: channel follows the same rule.
    from server.social.services.posts import can_view_post

    assert await can_view_post(int(bob.id), int(post["id"]))
    assert not await can_view_post(int(eve.id), int(post["id"]))


async def test_trial_grants_access_and_own_tier_is_422(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    tier = await make_tier(alice)
    res = await alice.client.post(
        "/api/v1/subscriptions", json={"tier_id": tier["id"]}, headers={**alice.headers, **key()}
    )
    assert res.status_code == 422
    for days in (-1, 31):
        res = await bob.client.post(
            "/api/v1/subscriptions", json={"tier_id": tier["id"], "trial_days": days}, headers={**bob.headers, **key()}
        )
        assert res.status_code == 422
    sub = await subscribe(bob, tier, trial_days=14)
    assert sub["status"] == "trialing"
    await settle(client, stripe)
    post = await alice.publish("early", visibility="subscribers")
    assert await sees(bob, post["id"])
    again = await bob.client.post(
        "/api/v1/subscriptions", json={"tier_id": tier["id"]}, headers={**bob.headers, **key()}
    )
    assert again.status_code == 409


async def test_past_due_keeps_access_for_the_grace_period_and_deleted_ends_it(
    client: Any, stripe: StripeStandin
) -> None:
    from server import sql

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    tier = await make_tier(alice)
    post = await alice.publish("members only", visibility="subscribers")
    sub = await subscribe(bob, tier)
    await confirm(client, stripe, sub)
    stripe_id = await stripe_sub_id(sub)
    status, _ = await stripe_post(stripe, f"/_test/subscriptions/{stripe_id}/renew", fail="true")
    assert status == 200
    await settle(client, stripe)
    got = (await bob.get(f"/api/v1/subscriptions/{sub['id']}")).json()
    assert got["status"] == "past_due" and got["access"] is True
    assert await sees(bob, post["id"])
    # Past the grace period (3 days by default) access ends.
    until = await sql.fetchval("SELECT access_until - now() FROM fan_subscriptions WHERE id = $1", int(sub["id"]))
    assert 2.9 * 86400 < until.total_seconds() <= 3 * 86400
    await sql.execute(
        "UPDATE fan_subscriptions SET access_until = now() - interval '1 second' WHERE id = $1", int(sub["id"])
    )
    assert not await sees(bob, post["id"])
    # A successful retry restores it; the subscription ending (Stripe's deleted event) ends it.
    await stripe_post(stripe, f"/_test/subscriptions/{stripe_id}/renew")
    await settle(client, stripe)
    assert await sees(bob, post["id"])
    status, _ = await stripe_post(stripe, f"/_test/subscriptions/{stripe_id}/renew")
    await settle(client, stripe)
    assert stripe.res.objects[stripe_id]
    stripe.res.cancel_subscription(id=stripe_id, params={}, account=None)  # canceled in Stripe's dashboard
    await settle(client, stripe)
    got = (await bob.get(f"/api/v1/subscriptions/{sub['id']}")).json()
    assert got["status"] == "canceled" and got["access"] is False
    assert not await sees(bob, post["id"])


async def test_cancel_at_period_end_keeps_access_immediately_ends_it(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob, carol = await signup(client, "bob"), await signup(client, "carol")
    tier = await make_tier(alice)
    post = await alice.publish("members only", visibility="subscribers")
    b, c = await subscribe(bob, tier), await subscribe(carol, tier)
    await confirm(client, stripe, b)
    await confirm(client, stripe, c)
    res = await bob.delete(f"/api/v1/subscriptions/{b['id']}")
    assert res.status_code == 200 and res.json()["cancel_at_period_end"] is True and res.json()["access"] is True
    await settle(client, stripe)
    assert await sees(bob, post["id"])
    res = await carol.delete(f"/api/v1/subscriptions/{c['id']}", params={"immediately": "true"})
    assert res.status_code == 200 and res.json()["status"] == "canceled" and res.json()["access"] is False
    await settle(client, stripe)
    assert not await sees(carol, post["id"])
    # Someone else's subscription: 404.
    assert (await carol.delete(f"/api/v1/subscriptions/{b['id']}")).status_code == 404
    assert (await carol.get(f"/api/v1/subscriptions/{b['id']}")).status_code == 404


async def test_upgrade_and_downgrade_prorate(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    basic, gold = await make_tier(alice, 500, "Basic"), await make_tier(alice, 1500, "Gold")
    sub = await subscribe(bob, basic)
    await confirm(client, stripe, sub)
    res = await bob.patch(f"/api/v1/subscriptions/{sub['id']}", json={"tier_id": gold["id"]})
    assert res.status_code == 200, res.text
    assert res.json()["tier"]["id"] == gold["id"]
    sent = [p for m, path, p, _ in stripe.requests if m == "POST" and path.startswith("/v1/subscriptions/")]
    assert sent[-1]["proration_behavior"] == "create_prorations"
    await settle(client, stripe)
    stripe_id = await stripe_sub_id(sub)
    await stripe_post(stripe, f"/_test/subscriptions/{stripe_id}/renew")
    await settle(client, stripe)
    # The next invoice carries the prorated difference on top of the new price.
    paid = [e for e in stripe.res.objects.values() if e["object"] == "invoice" and e["status"] == "paid"]
    assert paid[-1]["amount_paid"] > 1500
    down = await bob.patch(f"/api/v1/subscriptions/{sub['id']}", json={"tier_id": basic["id"]})
    assert down.status_code == 200 and down.json()["tier"]["id"] == basic["id"]
    await settle(client, stripe)
    other = await creator(client, stripe, "zed")
    foreign = await make_tier(other)
    res = await bob.patch(f"/api/v1/subscriptions/{sub['id']}", json={"tier_id": foreign["id"]})
    assert res.status_code == 404


async def test_tiers_need_a_creator_and_valid_money(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    res = await bob.client.post(
        "/api/v1/creators/me/tiers",
        json={"name": "x", "amount": 500, "currency": "usd", "interval": "month"},
        headers=bob.headers,
    )
    assert res.status_code == 403
    for body in (
        {"name": "x", "amount": 0, "currency": "usd", "interval": "month"},
        {"name": "x", "amount": 500, "currency": "usd", "interval": "week"},
        {"name": "x", "amount": 500, "currency": "zzz", "interval": "month"},
        {"name": "", "amount": 500, "currency": "usd", "interval": "month"},
    ):
        res = await alice.client.post("/api/v1/creators/me/tiers", json=body, headers=alice.headers)
        assert res.status_code == 422, body


async def test_subscriber_posts_reach_only_subscribers_live_and_in_notifications(
    client: Any, stripe: StripeStandin
) -> None:
    """Fan-out: live timeline events, the post: channel and new_post notifications skip non-payers."""
    from server import sql
    from tests.integration.realtime.helpers import connect

    alice = await creator(client, stripe, "alice")
    bob, eve = await signup(client, "bob"), await signup(client, "eve")
    for fan in (bob, eve):
        await fan.follow(alice)
        assert (await fan.post("/api/v1/notifications/subscriptions/alice")).status_code == 201
    await confirm(client, stripe, await subscribe(bob, await make_tier(alice)))
    async with connect(client, bob.token) as bob_ws, connect(client, eve.token) as eve_ws:
        assert (await bob_ws.subscribe(f"timeline:home:{bob.id}"))["type"] == "subscribed"
        assert (await eve_ws.subscribe(f"timeline:home:{eve.id}"))["type"] == "subscribed"
        post = await alice.publish("members only", visibility="subscribers")
        public = await alice.publish("everyone")
        got = await bob_ws.event()
        assert (got["event"], got["data"]["id"]) == ("post.created", post["id"])
        got = await eve_ws.event()  # eve's first event is the public post: the other never reached her
        assert (got["event"], got["data"]["id"]) == ("post.created", public["id"])
        assert (await bob_ws.subscribe(f"post:{post['id']}"))["type"] == "subscribed"
        denied = await eve_ws.subscribe(f"post:{post['id']}")
        assert denied["type"] == "error" and denied["code"] == "forbidden"
    told = await sql.fetch(
        "SELECT recipient FROM notifications WHERE type = 'new_post' AND subject_id = $1", int(post["id"])
    )
    assert [r["recipient"] for r in told] == [int(bob.id)]
