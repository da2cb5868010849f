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
