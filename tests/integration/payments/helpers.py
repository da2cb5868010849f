"""Driving payments the way a client, Stripe.js and Stripe's webhooks do."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.social.helpers import Actor, signup
from tests.support.stripe.server import StripeStandin

TIPS = "/api/v1/payments/tips"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def drain(client: Any) -> None:
    """Run every due payments job, with the job context of ``client``'s app (its settings and payments context,
    whose event bus has that app's handlers) as the worker's context, then return."""
    from server import jobqueue
    from server.payments import runtime
    from tests.support.settings import of

    await client.sf_app.state.job_queue.run_worker_async(
        additional_context={jobqueue.SETTINGS_KEY: of(client), runtime.CONTEXT_KEY: client.sf_app.state.payments},
        queues=["payments"],
        wait=False,
        concurrency=1,
        install_signal_handlers=False,
        delete_jobs="successful",
    )


async def settle(client: Any, stripe: StripeStandin) -> list[int]:
    """Deliver Stripe's queued webhooks to the app and run the jobs they queued (repeatedly)."""
    statuses: list[int] = []
    while stripe.events:
        statuses += await stripe.deliver(client)
        await drain(client)
    return statuses


async def stripe_post(stripe: StripeStandin, path: str, **params: Any) -> tuple[int, Any]:
    """A direct call to the stand-in (as Stripe.js or the Dashboard would make)."""
    assert stripe.session is not None
    async with stripe.session.post(
        stripe.base + path,
        data={k: str(v) for k, v in params.items()},
        headers={"Authorization": "Bearer sk_test_client"},
    ) as resp:
        return resp.status, await resp.json()


async def creator(client: Any, stripe: StripeStandin, name: str) -> Actor:
    """A user enrolled as creator with an onboarded Connect Express account."""
    user = await signup(client, name)
    res = await user.post("/api/v1/creators/enroll")
    assert res.status_code == 200, res.text
    res = await user.post("/api/v1/creators/me/payout-account")
    assert res.status_code == 200, res.text
    account = res.json()["account_id"]
    status, _ = await stripe_post(stripe, f"/_test/accounts/{account}/onboard")
    assert status == 200
    await settle(client, stripe)
    return user


async def tip(payer: Actor, recipient: Actor, amount: int = 500, **extra: Any) -> dict[str, Any]:
    body = {"recipient": recipient.username, "amount": amount, "currency": "usd", **extra}
    res = await payer.client.post(TIPS, json=body, headers={**payer.headers, **key()})
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


async def pay(client: Any, stripe: StripeStandin, payment: dict[str, Any], method: str = "pm_card_visa") -> int:
    """Confirm the PaymentIntent behind ``payment`` as Stripe.js would, then let the webhooks land."""
    intent = payment["client_secret"].split("_secret_")[0]
    status, _ = await stripe_post(stripe, f"/v1/payment_intents/{intent}/confirm", payment_method=method)
    await settle(client, stripe)
    return status


async def tipped(
    client: Any, stripe: StripeStandin, payer: Actor, recipient: Actor, amount: int = 500
) -> dict[str, Any]:
    payment = await tip(payer, recipient, amount)
    assert await pay(client, stripe, payment) == 200
    res = await payer.get(f"/api/v1/payments/{payment['id']}")
    return res.json()  # type: ignore[no-any-return]


async def earnings(user: Actor) -> dict[str, Any]:
    res = await user.get("/api/v1/creators/me/earnings")
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


async def outbox_published() -> None:
    """Wait until this app's relay published every outbox row (before an extra app shuts down)."""
    import asyncio

    from server import sql

    for _ in range(200):
        if not await sql.fetchval("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL)"):
            return
        await asyncio.sleep(0.05)
