"""Stripe's webhook endpoint: verified, stored once, answered at once."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from server.openapi import problems
from server.payments import schemas
from server.payments.services.webhooks import WebhookService


class StripeWebhookController(Controller):
    path = "/payments/webhooks"
    tags = ["payments"]

    @post("/stripe", status_code=200, summary="Stripe's signed events", responses=problems(400, 503))
    async def stripe_event(
        self,
        request: Request,
        webhooks: NamedDependency[WebhookService],
        stripe_signature: Annotated[str | None, HeaderParameter(name="Stripe-Signature")] = None,
    ) -> schemas.Ack:
        await webhooks.receive(await request.body(), stripe_signature)
        return schemas.Ack()
