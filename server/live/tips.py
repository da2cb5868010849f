"""Tips in the live room's history: a confirmed tip with a ``live_id`` becomes a chat item of kind ``tip``.

Payments emits the room's ``tip`` event itself, once Stripe confirmed the payment; this handler runs in
that same transaction (``PaymentReceived``) and keeps the tip in the chat history, once per payment.
"""

from __future__ import annotations

from models.ids import new_id
from server import events
from server.live import queries


async def on_payment_received(e: events.PaymentReceived) -> None:
    if e.kind != "tip":
        return
    # Nothing when the payment names no stream or one that does not exist (payments does not check it).
    await queries.insert_tip_line(new_id(), e.payment_id, e.amount, e.currency)


def register(bus: events.EventBus) -> None:
    """Subscribe to confirmed payments on ``bus`` (idempotent; the composition root calls it)."""
    bus.subscribe(events.PaymentReceived, on_payment_received)


def unregister(bus: events.EventBus) -> None:
    bus.unsubscribe(events.PaymentReceived, on_payment_received)
