"""Tips and content purchases: one PaymentIntent each, a destination charge to the creator's account.

Creating is idempotent by ``(payer, Idempotency-Key)``: under an advisory lock on that pair the
first request creates the PaymentIntent (the key goes to Stripe too) and the row in one database
transaction; the others wait and return that row. Stripe failing rolls everything back (503), and
a retry with the same key finishes the job, because Stripe answers the same key with the same object.
"""

from __future__ import annotations

from typing import Any

from models.ids import new_id
from server import cursor as cursor_codec
from server import db
from server.deps import CurrentUser
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.pagination import Page
from server.params import body_id
from server.payments import ledger, schemas
from server.payments.queries import payments as payment_queries
from server.payments.services.common import Context, connect_account, lock, user_by_name, users_by_id


def _view(r: Any, users: dict[int, Any], viewer: int) -> schemas.Payment:
    return schemas.Payment(
        id=str(r["id"]),
        kind=r["kind"],
        status=r["status"],
        amount=r["amount"],
        currency=r["currency"],
        fee=r["fee"],
        # Only the payer needs the secret (to confirm with Stripe.js); never the recipient.
        client_secret=r["client_secret"] if r["payer"] == viewer else None,
        created_at=r["created_at"],
        payer=users.get(r["payer"]),
        recipient=users.get(r["recipient"]),
        refunded=r["refunded"],
        disputed=r["disputed"],
        message=r["message"],
        post_id=str(r["post_id"]) if r["post_id"] is not None else None,
        video_id=str(r["video_id"]) if r["video_id"] is not None else None,
        live_id=str(r["live_id"]) if r["live_id"] is not None else None,
    )


async def views(rows: list[Any], viewer: int) -> list[schemas.Payment]:
    users = await users_by_id({r["payer"] for r in rows} | {r["recipient"] for r in rows})
    return [_view(r, users, viewer) for r in rows]


class ChargeService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def tip(self, payer: CurrentUser, data: schemas.TipCreate, key: str) -> schemas.Payment:
        self.ctx.require()
        currency = self.ctx.money(data.amount, data.currency)
        recipient = await user_by_name(data.recipient)
        if recipient["id"] == payer.id:
            raise ValidationFailed("you cannot tip yourself")
        live_id = None
        if data.live_id is not None:
            live_id = body_id(data.live_id)
            from server.live.queries import visible_stream

            # The room the tip shows in: one the payer can see (else 404, like any hidden object) and the
            # recipient's own (a tip for one creator never appears in another's room).
            stream = await visible_stream(payer.id, live_id)
            if stream is None:
                raise NotFound("no such live stream")
            if stream["owner"] != recipient["id"]:
                raise ValidationFailed("live_id must be a stream of the recipient")
        return await self._create(
            payer, "tip", recipient["id"], data.amount, currency, key, message=data.message, live_id=live_id
        )

    async def purchase(self, payer: CurrentUser, data: schemas.PurchaseCreate, key: str) -> schemas.Payment:
        """Buy a paid post or video the payer can see (its teaser); the amount is its price."""
        self.ctx.require()
        if (data.post_id is None) == (data.video_id is None):
            raise ValidationFailed("give exactly one of post_id and video_id")
        if data.post_id is not None:
            what, column = "post", "post_id"
            row = await payment_queries.payable_post(payer.id, body_id(data.post_id))
        else:
            what, column = "video", "video_id"
            row = await payment_queries.payable_video(payer.id, body_id(data.video_id or "0"))
            if row is not None and row["status"] != "ready":
                row = None  # only the owner sees it before it is ready, and the owner cannot buy it
        if row is None:
            raise NotFound(f"no such {what}")
        if row["price_amount"] is None:
            raise ValidationFailed(f"this {what} is free")
        if row["owner"] == payer.id:
            raise ValidationFailed(f"you cannot buy your own {what}")
        if row["bought"]:
            raise Conflict(f"you already bought this {what}")
        return await self._create(
            payer, "content", row["owner"], row["price_amount"], row["price_currency"], key, **{column: row["id"]}
        )

    async def _create(
        self,
        payer: CurrentUser,
        kind: str,
        recipient: int,
        amount: int,
        currency: str,
        key: str,
        *,
        message: str = "",
        live_id: int | None = None,
        post_id: int | None = None,
        video_id: int | None = None,
    ) -> schemas.Payment:
        idem = f"{payer.id}:{key}"
        async with db.transaction():
            await lock(f"payment:{idem}")
            row = await payment_queries.payment_by_idem(idem)
            if row is None:
                destination = await connect_account(recipient)
                customer = await self.ctx.customer_for(payer.id)
                fee = self.ctx.fee(amount)
                metadata = {"kind": kind, "payer": str(payer.id), "recipient": str(recipient)}
                if live_id is not None:
                    metadata["live_id"] = str(live_id)
                if post_id is not None:
                    metadata["post_id"] = str(post_id)
                if video_id is not None:
                    metadata["video_id"] = str(video_id)
                stripe = self.ctx.stripe
                intent = await stripe.call(
                    "payment_intents.create",
                    lambda: stripe.v1.payment_intents.create_async(
                        params={
                            "amount": amount,
                            "currency": currency,
                            "customer": customer,
                            "application_fee_amount": fee,
                            "transfer_data": {"destination": destination},
                            "automatic_payment_methods": {"enabled": True},
                            "description": f"Social Flow {kind}",
                            "metadata": metadata,
                        },
                        options={"idempotency_key": f"sf-payment-{idem}"},
                    ),
                )
                row = await payment_queries.insert_payment(
                    new_id(),
                    kind,
                    payer.id,
                    recipient,
                    amount,
                    currency,
                    fee,
                    intent["status"],
                    intent["id"],
                    intent["client_secret"],
                    idem,
                    message,
                    live_id,
                    post_id,
                    video_id,
                )
            elif (row["kind"], row["recipient"], row["amount"], row["currency"], row["post_id"], row["video_id"]) != (
                kind,
                recipient,
                amount,
                currency,
                post_id,
                video_id,
            ):
                raise Conflict("this Idempotency-Key was used for a different payment")
        return (await views([row], payer.id))[0]

    async def get(self, viewer: CurrentUser, payment_id: int) -> schemas.Payment:
        self.ctx.require()
        row = await payment_queries.payment_of_party(payment_id, viewer.id)
        if row is None:
            raise NotFound("no such payment")
        return (await views([row], viewer.id))[0]

    async def list(self, viewer: CurrentUser, limit: int, cursor: str | None) -> Page[schemas.Payment]:
        self.ctx.require()
        after = cursor_codec.decode_id(self.ctx.secret_key, "payments", cursor or None)
        rows = await payment_queries.payments_of_party(viewer.id, after, limit + 1)
        ids = [r["id"] for r in rows]
        return Page(
            items=await views(rows[:limit], viewer.id),
            next_cursor=cursor_codec.next_id(self.ctx.secret_key, "payments", ids, limit),
        )

    async def refund(
        self, actor: CurrentUser, payment_id: int, amount: int | None, key: str | None
    ) -> schemas.RefundView:
        """Refund all or part of a succeeded payment; the recipient or an admin only."""
        self.ctx.require()
        async with db.transaction():
            # The row lock serializes refunds with each other and with dispute processing.
            row = await payment_queries.lock_payment(payment_id)
            is_admin = actor.role == "admin"
            if row is None or not (is_admin or actor.id in (row["payer"], row["recipient"])):
                raise NotFound("no such payment")
            if not is_admin and actor.id != row["recipient"]:
                raise Forbidden("only the recipient or an admin may refund a payment")
            idem = f"{actor.id}:{key or new_id()}"
            done = await payment_queries.refund_by_idem(idem)
            if done is not None:
                return _refund_view(done)
            if row["status"] != "succeeded":
                raise Conflict("only a succeeded payment can be refunded")
            if row["disputed"]:
                raise Conflict("this payment is disputed; its funds are held")
            remaining = row["amount"] - row["refunded"]
            amount = remaining if amount is None else amount
            if remaining <= 0:
                raise ValidationFailed("this payment is fully refunded")
            if amount > remaining:
                raise ValidationFailed(f"at most {remaining} can still be refunded")
            # The creator's share comes back out of the charge's pending funds, or out of their available
            # balance once Stripe made them available; it must still be there (not paid out).
            creator_part = amount - row["fee"] * amount // row["amount"]
            if creator_part > await refundable_share(row):
                raise ValidationFailed("the creator's available balance cannot cover this refund")
            stripe = self.ctx.stripe
            refund = await stripe.call(
                "refunds.create",
                lambda: stripe.v1.refunds.create_async(
                    params={
                        "payment_intent": row["intent_id"],
                        "amount": amount,
                        "reverse_transfer": True,
                        "refund_application_fee": True,
                        "metadata": {"payment_id": str(payment_id), "by": str(actor.id)},
                    },
                    options={"idempotency_key": f"sf-refund-{idem}"},
                ),
            )
            return _refund_view(
                await record_refund(row, refund["id"], refund["amount"], refund["status"], actor.id, idem)
            )


def _refund_view(r: Any) -> schemas.RefundView:
    return schemas.RefundView(
        id=str(r["id"]),
        payment_id=str(r["payment"]),
        amount=r["amount"],
        currency=r["currency"],
        status=r["status"],
        created_at=r["created_at"],
    )


async def refundable_share(payment: Any) -> int:
    """How much of the creator's money a refund of ``payment`` can take back now (takes the creator's lock)."""
    creator, ref = payment["recipient"], f"charge:{payment['intent_id']}"
    await lock(f"creator:{creator}")
    await ledger.release_due(creator)
    if await ledger.share_bucket(ref, creator) == "pending":
        return await ledger.pending_of(ref, creator)
    return -await ledger.balance(ledger.creator_account(creator), payment["currency"])


async def record_refund(payment: Any, refund_id: str, amount: int, status: str, by: int, idem: str) -> Any:
    """Store a refund and post it to the ledger once (by its Stripe id); ``payment`` is locked by the caller."""
    row = await payment_queries.insert_refund(
        new_id(), payment["id"], refund_id, idem, amount, payment["currency"], status, by
    )
    if row is None:
        return await payment_queries.refund_by_stripe_id(refund_id)
    await payment_queries.add_refunded(payment["id"], amount)
    # The fee is refunded in proportion (refund_application_fee) and the transfer reversed.
    platform_part = payment["fee"] * amount // payment["amount"]
    creator_part = amount - platform_part
    creator, charge_ref = payment["recipient"], f"charge:{payment['intent_id']}"
    await lock(f"creator:{creator}")
    await ledger.release_due(creator)
    bucket = await ledger.share_bucket(charge_ref, creator)
    await ledger.post(
        f"refund:{refund_id}",
        "refund",
        payment["currency"],
        [
            (ledger.creator_account(creator, bucket), creator_part),
            (ledger.REVENUE, platform_part),
            (ledger.CLEARING, -amount),
        ],
        kind=payment["kind"],
        creator=creator,
        source=charge_ref,
    )
    return row
