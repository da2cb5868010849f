"""Stripe webhooks: verify, store once, answer at once; a job applies each event.

The event id is the primary key of ``stripe_events``: a replay (or five concurrent deliveries) inserts
nothing and enqueues nothing. The job runs each handler in one transaction with the event row locked,
so an event is applied once; handlers re-fetch the object from Stripe and apply its current state,
which makes them order-safe (an older event never brings back older state).
"""

from __future__ import annotations

from typing import Any

import msgspec
import stripe
import structlog

from server import db
from server.errors import DomainError
from server.jobqueue import enqueue
from server.observability.metrics import record_webhook
from server.payments.queries import webhooks as webhook_queries
from server.payments.services import events
from server.payments.services.common import Context

log = structlog.get_logger(__name__)
TASK = "payments.process_event"
QUEUE = "payments"


class BadSignature(DomainError):
    status, code, title = 400, "invalid_signature", "The Stripe-Signature header is missing, stale or wrong"


class _Event(msgspec.Struct):
    id: str
    type: str
    created: int
    data: dict[str, Any]


class WebhookService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def receive(self, payload: bytes, signature: str | None) -> bool:
        """Verify and store one delivery; ``True`` if the event is new (and queued)."""
        self.ctx.require()
        if not signature:
            record_webhook("unknown", "bad_signature")
            raise BadSignature("no Stripe-Signature header")
        try:
            text = payload.decode()
            stripe.WebhookSignature.verify_header(
                text, signature, self.ctx.settings.webhook_secret, self.ctx.settings.webhook_tolerance
            )
            event = msgspec.json.decode(payload, type=_Event)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, msgspec.ValidationError) as exc:
            record_webhook("unknown", "bad_signature")
            raise BadSignature(str(exc) or None) from exc
        async with db.transaction():
            new = await webhook_queries.store_event(event.id, event.type, event.created, text)
            if new:
                await enqueue(TASK, {"event_id": event.id}, queue_name=QUEUE)
        record_webhook(event.type, "received" if new else "duplicate")
        log.info("stripe_event_received", event_id=event.id, type=event.type, new=bool(new))
        return bool(new)


async def process(ctx: Context, event_id: str) -> str | None:
    """Apply one stored event once; the outcome (``applied``, ``ignored``...), ``None`` if already done."""
    async with db.transaction():
        row = await webhook_queries.lock_unprocessed_event(event_id)
        if row is None:
            return None
        payload = row["payload"]
        event = msgspec.json.decode(payload) if isinstance(payload, str | bytes) else payload
        handler = events.HANDLERS.get(row["type"])
        outcome = "unhandled" if handler is None else await handler(ctx, event)
        if outcome == "ignored":
            log.info("stripe_event_ignored", event_id=event_id, type=row["type"], reason="unknown object")
        await webhook_queries.mark_event_processed(event_id, outcome)
    record_webhook(row["type"], str(outcome))
    return str(outcome)
