"""A tip paid with ``live_id`` shows in the live room and its chat history once Stripe confirms it."""

from __future__ import annotations

from typing import Any

from tests.integration.live.helpers import new_stream
from tests.integration.payments.helpers import creator, pay, settle, tip
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin


async def test_a_confirmed_tip_appears_in_the_room_and_its_history(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob, carol = await signup(client, "bob"), await signup(client, "carol")
    stream = await new_stream(alice, "tip jar")
    sid = stream["id"]
    async with connect(client, carol.token) as ws:
        assert (await ws.subscribe(f"live:{sid}"))["type"] == "subscribed"
        payment = await tip(bob, alice, 700, live_id=sid, message="great show")
        history = (await carol.get(f"/api/v1/live/{sid}/chat")).json()["items"]
        assert history == []  # not on the client's word
        await pay(client, stripe, payment)
        await settle(client, stripe)
        event = await ws.event()
        while event["event"] != "tip":
            event = await ws.event()
        data = event["data"]
        assert data["from"]["username"] == "bob"
        assert (data["amount"], data["currency"], data["message"]) == (700, "usd", "great show")
    items = (await carol.get(f"/api/v1/live/{sid}/chat")).json()["items"]
    assert len(items) == 1
    item = items[0]
    assert (item["kind"], item["amount"], item["currency"], item["text"]) == ("tip", 700, "usd", "great show")
    assert item["user"]["username"] == "bob"
    await settle(client, stripe)  # a redelivered webhook adds nothing
    assert len((await carol.get(f"/api/v1/live/{sid}/chat")).json()["items"]) == 1


async def test_a_tip_names_only_a_visible_stream_of_its_recipient(client: Any, stripe: StripeStandin) -> None:
    from tests.integration.payments.helpers import TIPS, key

    alice = await creator(client, stripe, "alice")
    carl = await creator(client, stripe, "carl")
    bob = await signup(client, "bob")
    own = await new_stream(alice, "alice live")
    others = await new_stream(carl, "carl live")
    hidden = await new_stream(alice, "followers only", visibility="followers")
    cases = [
        ("12345", 404, "not_found"),  # no such stream
        (hidden["id"], 404, "not_found"),  # bob does not follow alice: he cannot see it
        (others["id"], 422, "validation_error"),  # visible, but carl's: the tip is for alice
        ("9999999999999999999", 422, "validation_error"),  # past the id range
    ]
    for live_id, status, code in cases:
        body = {"recipient": "alice", "amount": 500, "currency": "usd", "live_id": live_id}
        res = await bob.client.post(TIPS, json=body, headers={**bob.headers, **key()})
        assert (res.status_code, res.json()["code"]) == (status, code), (live_id, res.text)
    # Nothing was charged or stored for any of them.
    assert stripe.created("/v1/payment_intents") == []
    assert (await bob.get("/api/v1/payments")).json()["items"] == []
    # Once bob follows, the followers-only room is his to tip in; the stream he tipped in is the recipient's.
    await bob.follow(alice)
    payment = await tip(bob, alice, 500, live_id=hidden["id"])
    assert payment["live_id"] == hidden["id"]
    assert (await tip(bob, alice, 500, live_id=own["id"]))["live_id"] == own["id"]
    assert len(stripe.created("/v1/payment_intents")) == 2
