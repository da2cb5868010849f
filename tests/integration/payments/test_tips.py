"""Tips: a PaymentIntent with the platform fee to the creator's account; it counts only once Stripe says so."""

from __future__ import annotations

from typing import Any

from tests.integration.payments.helpers import TIPS, creator, earnings, key, pay, settle, tip, tipped
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin


async def test_tip_is_a_destination_charge_that_counts_only_after_stripe_says_succeeded(
    client: Any, stripe: StripeStandin
) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tip(bob, alice, 1000, message="great stream")
    assert payment["kind"] == "tip"
    assert payment["amount"] == 1000 and payment["currency"] == "usd" and payment["fee"] == 100
    assert payment["status"] == "requires_payment_method" and payment["client_secret"]
    sent = stripe.created("/v1/payment_intents")[-1]
    account = (await alice.post("/api/v1/creators/me/payout-account")).json()["account_id"]
    assert sent["application_fee_amount"] == "100" and sent["transfer_data"]["destination"] == account
    # Nothing counts on the client's word: no earnings, no notification before Stripe's event.
    assert (await earnings(alice))["available"] == 0
    assert await pay(client, stripe, payment) == 200
    got = (await bob.get(f"/api/v1/payments/{payment['id']}")).json()
    assert got["status"] == "succeeded"
    mine = await earnings(alice)
    assert mine == {
        "currency": "usd",
        "available": 900,
        "pending": 0,
        "lifetime": 900,
        "by_kind": {"tip": 900, "subscription": 0, "content": 0, "ads": 0},
    }
    notes = (await alice.get("/api/v1/notifications")).json()["items"]
    assert [n["type"] for n in notes] == ["payment_received"]
    assert notes[0]["actor"]["username"] == "bob"
    # The recipient sees the payment but never its client secret.
    seen = (await alice.get(f"/api/v1/payments/{payment['id']}")).json()
    assert seen["client_secret"] is None and seen["payer"]["username"] == "bob"


async def test_same_idempotency_key_answers_the_same_payment(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    headers = {**bob.headers, **key()}
    body = {"recipient": "alice", "amount": 700, "currency": "usd"}
    first = await bob.client.post(TIPS, json=body, headers=headers)
    second = await bob.client.post(TIPS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(stripe.created("/v1/payment_intents")) == 1
    # The key reaches Stripe too.
    sent_headers = next(h for _, p, _, h in stripe.requests if p == "/v1/payment_intents")
    assert sent_headers["Idempotency-Key"].endswith(headers["Idempotency-Key"])
    other = await bob.client.post(TIPS, json={**body, "amount": 800}, headers=headers)
    assert other.status_code == 409
    listed = (await bob.get("/api/v1/payments")).json()
    assert [p["id"] for p in listed["items"]] == [first.json()["id"]]
    _ = alice


async def test_bad_tips_are_422(client: Any, stripe: StripeStandin) -> None:
    await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    cases = [
        {"recipient": "alice", "amount": 0, "currency": "usd"},
        {"recipient": "alice", "amount": -5, "currency": "usd"},
        {"recipient": "alice", "amount": 100_000_000, "currency": "usd"},
        {"recipient": "alice", "amount": 500, "currency": "xyz"},
        {"recipient": "alice", "amount": 5.5, "currency": "usd"},
        {"recipient": "bob", "amount": 500, "currency": "usd"},
    ]
    for body in cases:
        res = await bob.client.post(TIPS, json=body, headers={**bob.headers, **key()})
        assert res.status_code == 422, (body, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
    missing_key = await bob.post(TIPS, json={"recipient": "alice", "amount": 500, "currency": "usd"})
    assert missing_key.status_code == 422
    nobody = await bob.client.post(
        TIPS, json={"recipient": "nobody", "amount": 500, "currency": "usd"}, headers={**bob.headers, **key()}
    )
    assert nobody.status_code == 404
    assert stripe.created("/v1/payment_intents") == []


async def test_recipient_without_payout_account_cannot_be_tipped(client: Any, stripe: StripeStandin) -> None:
    await signup(client, "carol")
    bob = await signup(client, "bob")
    res = await bob.client.post(
        TIPS, json={"recipient": "carol", "amount": 500, "currency": "usd"}, headers={**bob.headers, **key()}
    )
    assert res.status_code == 422


async def test_someone_elses_payment_is_404(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    eve = await signup(client, "eve")
    payment = await tip(bob, alice)
    assert (await eve.get(f"/api/v1/payments/{payment['id']}")).status_code == 404
    assert (await eve.get("/api/v1/payments")).json()["items"] == []
    assert (await eve.post(f"/api/v1/payments/{payment['id']}/refund", json={})).status_code == 404


async def test_declined_card_leaves_nothing_counted(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tip(bob, alice)
    assert await pay(client, stripe, payment, method="pm_card_chargeDeclined") == 402
    got = (await bob.get(f"/api/v1/payments/{payment['id']}")).json()
    assert got["status"] == "requires_payment_method"
    assert (await earnings(alice))["lifetime"] == 0
    assert (await alice.get("/api/v1/notifications")).json()["items"] == []


async def test_tip_in_a_live_room_is_an_outbox_event_on_the_live_channel(client: Any, stripe: StripeStandin) -> None:
    from models.outbox import OutboxEvent
    from tests.integration.live.helpers import new_stream

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    channel = f"live:{(await new_stream(alice, 'tips'))['id']}"
    payment = await tip(bob, alice, 300, live_id=channel.split(":")[1], message="hi!")
    query = "SELECT channel, event, data FROM outbox_events WHERE channel = {} AND event = 'tip'"
    assert await OutboxEvent.raw(query, channel) == []  # not on the client's word
    await pay(client, stripe, payment)
    rows = await OutboxEvent.raw(query, channel)
    assert len(rows) == 1 and rows[0]["event"] == "tip"
    import json

    data = json.loads(rows[0]["data"]) if isinstance(rows[0]["data"], str) else rows[0]["data"]
    assert data["from"]["username"] == "bob"
    assert (data["amount"], data["currency"], data["message"]) == (300, "usd", "hi!")
    await settle(client, stripe)


async def test_tips_counted_once_per_payment(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    await tipped(client, stripe, bob, alice, 500)
    await tipped(client, stripe, bob, alice, 250)
    mine = await earnings(alice)
    assert mine["available"] == 450 + 225 and mine["by_kind"]["tip"] == 675


async def test_ten_concurrent_posts_with_one_key_make_one_payment_intent(client: Any, stripe: StripeStandin) -> None:
    import asyncio

    await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    headers = {**bob.headers, **key()}
    body = {"recipient": "alice", "amount": 900, "currency": "usd"}
    results = await asyncio.gather(*(bob.client.post(TIPS, json=body, headers=headers) for _ in range(10)))
    assert [r.status_code for r in results] == [201] * 10
    assert len({r.json()["id"] for r in results}) == 1
    assert len(stripe.created("/v1/payment_intents")) == 1
