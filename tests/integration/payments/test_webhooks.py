"""The webhook endpoint: signatures, replays, concurrent deliveries, unknown objects, order, Stripe down."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.integration.payments.helpers import TIPS, creator, drain, earnings, key, outbox_published, pay, settle, tip
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin
from tests.support.stripe.wire import event, sign

HOOK = "/api/v1/payments/webhooks/stripe"


async def stored_events() -> int:
    from server import sql

    return int(await sql.fetchval("SELECT count(*) FROM stripe_events"))


async def ledger_txns() -> int:
    from server import sql

    return int(await sql.fetchval("SELECT count(*) FROM ledger_transactions"))


async def post_event(client: Any, payload: str, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return await client.post(HOOK, content=payload, headers=headers)


async def test_tampered_unsigned_and_stale_events_are_400_and_not_recorded(client: Any, stripe: StripeStandin) -> None:
    evt = event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    payload, header = stripe.signed(evt)
    tampered = payload.replace("pi_x", "pi_y")
    stale = sign(payload, stripe.webhook_secret, int(time.time()) - 600)
    wrong_key = sign(payload, "whsec_other")
    for body, sig in [(tampered, header), (payload, None), (payload, stale), (payload, wrong_key), (payload, "junk")]:
        res = await post_event(client, body, sig)
        assert res.status_code == 400, res.text
        assert res.json()["code"] == "invalid_signature"
    assert await stored_events() == 0
    ok = await post_event(client, payload, header)
    assert ok.status_code == 200 and await stored_events() == 1


async def test_replayed_and_concurrent_deliveries_apply_once(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tip(bob, alice, 1000)
    intent = payment["client_secret"].split("_secret_")[0]
    from tests.integration.payments.helpers import stripe_post

    await stripe_post(stripe, f"/v1/payment_intents/{intent}/confirm", payment_method="pm_card_visa")
    succeeded = stripe.take("payment_intent.succeeded")
    before = await ledger_txns()
    payload, header = stripe.signed(succeeded)
    results = await asyncio.gather(*(post_event(client, payload, header) for _ in range(5)))
    assert [r.status_code for r in results] == [200] * 5
    await asyncio.gather(drain(client), drain(client))
    assert await ledger_txns() == before + 2  # the charge and its release (Stripe made it available at once)
    again = await post_event(client, payload, header)  # a replay a day later: 200 and no second effect
    assert again.status_code == 200
    await drain(client)
    assert await ledger_txns() == before + 2
    assert (await earnings(alice))["available"] == 900
    notes = (await alice.get("/api/v1/notifications")).json()["items"]
    assert [n["type"] for n in notes] == ["payment_received"]
    await settle(client, stripe)


async def test_unknown_object_is_200_and_ignored(client: Any, stripe: StripeStandin) -> None:
    from server import sql

    for type_, obj in [
        ("payment_intent.succeeded", {"id": "pi_unknown", "object": "payment_intent"}),
        ("payout.paid", {"id": "po_unknown", "object": "payout"}),
        ("customer.subscription.deleted", {"id": "sub_unknown", "object": "subscription"}),
        ("something.new", {"id": "x_1"}),
        ("charge.dispute.created", {"id": "dp_unknown", "object": "dispute"}),
        ("invoice.paid", {"id": "in_unknown", "object": "invoice"}),
        ("account.updated", {"id": "acct_unknown", "object": "account"}),
    ]:
        payload, header = stripe.signed(event(type_, obj))
        assert (await post_event(client, payload, header)).status_code == 200
    await drain(client)
    outcomes = {r["type"]: r["outcome"] for r in await sql.fetch("SELECT type, outcome FROM stripe_events")}
    assert outcomes == {
        "payment_intent.succeeded": "ignored",
        "payout.paid": "ignored",
        "customer.subscription.deleted": "ignored",
        "something.new": "unhandled",
        "charge.dispute.created": "ignored",
        "invoice.paid": "ignored",
        "account.updated": "ignored",
    }
    assert await ledger_txns() == 0


async def test_an_older_event_never_overwrites_newer_state(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tip(bob, alice)
    await pay(client, stripe, payment)
    # A stale "processing" event arrives after "succeeded": the current object wins.
    old = event("payment_intent.processing", {"id": payment["client_secret"].split("_secret_")[0]})
    old["created"] -= 3600
    payload, header = stripe.signed(old)
    assert (await post_event(client, payload, header)).status_code == 200
    await drain(client)
    assert (await bob.get(f"/api/v1/payments/{payment['id']}")).json()["status"] == "succeeded"


async def test_stripe_down_is_503_with_nothing_written_and_a_retry_finishes(client: Any, stripe: StripeStandin) -> None:
    from server import sql

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    headers = {**bob.headers, **key()}
    body = {"recipient": "alice", "amount": 500, "currency": "usd"}
    stripe.fail_next(2, 500)  # the call and the SDK's one retry
    res = await bob.client.post(TIPS, json=body, headers=headers)
    assert res.status_code == 503 and res.json()["code"] == "payments_unavailable"
    assert await sql.fetchval("SELECT count(*) FROM payments") == 0
    retry = await bob.client.post(TIPS, json=body, headers=headers)
    assert retry.status_code == 201
    assert len(stripe.created("/v1/payment_intents")) == 1
    # A payout while Stripe fails: nothing is debited.
    await pay(client, stripe, retry.json())
    stripe.fail_next(2, 502)
    res = await alice.client.post(
        "/api/v1/creators/me/payouts", json={"amount": 100}, headers={**alice.headers, **key()}
    )
    assert res.status_code == 503
    assert (await earnings(alice))["available"] == 450
    assert await sql.fetchval("SELECT count(*) FROM payouts") == 0


async def test_stripe_unreachable_is_503(client: Any, stripe: StripeStandin, payments_settings: Any) -> None:
    """The API base points at a port nobody listens on: 503 and nothing stored."""
    from server import sql
    from tests.support.apps import app_for
    from tests.support.asgi import in_process_client
    from tests.support.settings import derive
    from tests.support.stripe.server import free_port

    unreachable = derive(payments_settings, **{"payments.api_base": f"http://127.0.0.1:{free_port()}"})
    async with in_process_client(app_for(unreachable)) as other:
        alice, bob = await signup(other, "alice"), await signup(other, "bob")
        await sql.execute(
            'INSERT INTO payout_accounts ("user", account_id, charges_enabled, payouts_enabled, details_submitted, '
            "default_currency, created_at) VALUES ($1, 'acct_x', true, true, true, 'usd', now())",
            int(alice.id),
        )
        res = await other.post(
            TIPS, json={"recipient": "alice", "amount": 500, "currency": "usd"}, headers={**bob.headers, **key()}
        )
        assert res.status_code == 503 and res.json()["code"] == "payments_unavailable"
        assert await sql.fetchval("SELECT count(*) FROM payments") == 0
        assert await sql.fetchval("SELECT count(*) FROM stripe_customers") == 0
        await outbox_published()


async def test_webhook_processing_retries_while_stripe_is_down(client: Any, stripe: StripeStandin) -> None:
    from server import sql

    alice = await creator(client, stripe, "alice")
    bob = await signup(client, "bob")
    payment = await tip(bob, alice)
    intent = payment["client_secret"].split("_secret_")[0]
    from tests.integration.payments.helpers import stripe_post

    await stripe_post(stripe, f"/v1/payment_intents/{intent}/confirm", payment_method="pm_card_visa")
    await stripe.deliver(client)
    stripe.fail_next(20, 500)
    await drain(client)
    assert (await earnings(alice))["available"] == 0  # rolled back, to be retried
    attempts = await sql.fetchval(
        "SELECT attempts FROM procrastinate_jobs WHERE task_name = 'payments.process_event' AND status = 'todo'"
    )
    assert attempts == 1
    stripe.failures.clear()
    await sql.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = 'payments.process_event'")
    await drain(client)
    assert (await earnings(alice))["available"] == 450


async def test_without_stripe_keys_payments_answer_503_and_the_rest_works(
    client: Any, stripe: StripeStandin, payments_settings: Any
) -> None:
    from tests.support.apps import app_for
    from tests.support.asgi import in_process_client
    from tests.support.settings import derive

    app = app_for(derive(payments_settings, **{"payments.secret_key": None}))
    async with in_process_client(app) as other:
        bob = await signup(other, "bob")
        for method, path, body in [
            ("POST", TIPS, {"recipient": "x", "amount": 500, "currency": "usd"}),
            ("GET", "/api/v1/payments", None),
            ("POST", "/api/v1/subscriptions", {"tier_id": "1"}),
            ("GET", "/api/v1/subscriptions", None),
            ("POST", HOOK, {}),
        ]:
            res = await other.request(method, path, json=body, headers={**bob.headers, **key()})
            assert res.status_code == 503, (path, res.text)
            assert res.json()["code"] == "payments_unavailable"
        assert (await bob.get("/api/v1/feeds/home")).status_code == 200
        await outbox_published()


async def test_an_event_faster_than_our_commit_is_retried_not_dropped(client: Any, stripe: StripeStandin) -> None:
    """Stripe may deliver payment_intent.succeeded before the row that names it commits: the job waits."""
    from server import sql

    evt = event("payment_intent.succeeded", {"id": "pi_ours", "object": "payment_intent", "metadata": {"payer": "1"}})
    payload, header = stripe.signed(evt)
    assert (await post_event(client, payload, header)).status_code == 200
    await drain(client)
    job = await sql.fetchrow(
        "SELECT status::text AS status, attempts, scheduled_at > now() AS later FROM procrastinate_jobs "
        "WHERE task_name = 'payments.process_event'"
    )
    assert job is not None and (job["status"], job["attempts"], job["later"]) == ("todo", 1, True)  # retried later
    assert await sql.fetchval("SELECT processed_at FROM stripe_events") is None
