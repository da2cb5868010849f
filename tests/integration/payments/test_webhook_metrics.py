"""Stripe webhook outcomes are counted for operators (``socialflow_payment_webhooks_total``)."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import REGISTRY

from tests.integration.payments.helpers import creator, drain, settle, stripe_post, tip
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin

HOOK = "/api/v1/payments/webhooks/stripe"
NAME = "socialflow_payment_webhooks_total"


def count(event: str, outcome: str) -> float:
    return REGISTRY.get_sample_value(NAME, {"event": event, "outcome": outcome}) or 0.0


async def test_deliveries_duplicates_bad_signatures_and_applied_events_are_counted(
    client: Any, stripe: StripeStandin
) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tip(bob, alice, 700)
    intent = payment["client_secret"].split("_secret_")[0]
    await stripe_post(stripe, f"/v1/payment_intents/{intent}/confirm", payment_method="pm_card_visa")
    payload, header = stripe.signed(stripe.take("payment_intent.succeeded"))
    kind = "payment_intent.succeeded"
    before = {o: count(kind, o) for o in ("received", "duplicate", "applied")}
    bad_before = count("unknown", "bad_signature")

    headers = {"Content-Type": "application/json"}
    assert (await client.post(HOOK, content=payload, headers=headers)).status_code == 400
    results = await asyncio.gather(
        *(client.post(HOOK, content=payload, headers={**headers, "Stripe-Signature": header}) for _ in range(3))
    )
    assert [r.status_code for r in results] == [200, 200, 200]
    await drain(client)

    assert count("unknown", "bad_signature") - bad_before == 1
    assert count(kind, "received") - before["received"] == 1
    assert count(kind, "duplicate") - before["duplicate"] == 2
    assert count(kind, "applied") - before["applied"] == 1
    await settle(client, stripe)
