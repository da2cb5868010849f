"""Tips, content purchases, the caller's payments and refunds."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.deps import AuthUser
from server.openapi import problems
from server.pagination import Page
from server.params import Cursor, Limit
from server.payments import schemas
from server.payments.controllers.params import IdemKey, ObjectId, required_key
from server.payments.services.charges import ChargeService
from server.ratelimit import write_limit


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]

    @post(
        "/tips",
        status_code=201,
        summary="Tip a creator (a PaymentIntent)",
        responses=problems(401, 404, 409, 422, 429, 503),
        guards=[write_limit("payments")],
    )
    async def tip(
        self,
        current_user: AuthUser,
        charges: NamedDependency[ChargeService],
        data: JSONBody[schemas.TipCreate],
        idempotency_key: IdemKey = None,
    ) -> schemas.Payment:
        return await charges.tip(current_user, data, required_key(idempotency_key))

    @post(
        "/purchases",
        status_code=201,
        summary="Buy a paid post or video",
        responses=problems(401, 404, 409, 422, 429, 503),
        guards=[write_limit("payments")],
    )
    async def purchase(
        self,
        current_user: AuthUser,
        charges: NamedDependency[ChargeService],
        data: JSONBody[schemas.PurchaseCreate],
        idempotency_key: IdemKey = None,
    ) -> schemas.Payment:
        return await charges.purchase(current_user, data, required_key(idempotency_key))

    @get("/", summary="The caller's payments, as payer or recipient", responses=problems(401, 422, 503))
    async def list_payments(
        self, current_user: AuthUser, charges: NamedDependency[ChargeService], limit: Limit = 20, cursor: Cursor = None
    ) -> Page[schemas.Payment]:
        return await charges.list(current_user, limit, cursor)

    @get("/{payment_id:int}", summary="One of the caller's payments", responses=problems(401, 404, 503))
    async def get_payment(
        self, current_user: AuthUser, charges: NamedDependency[ChargeService], payment_id: ObjectId
    ) -> schemas.Payment:
        return await charges.get(current_user, payment_id)

    @post(
        "/{payment_id:int}/refund",
        status_code=201,
        summary="Refund all or part of a payment (recipient or admin)",
        responses=problems(401, 403, 404, 409, 422, 503),
    )
    async def refund(
        self,
        current_user: AuthUser,
        charges: NamedDependency[ChargeService],
        payment_id: ObjectId,
        data: JSONBody[schemas.RefundCreate | None] = None,
        idempotency_key: IdemKey = None,
    ) -> schemas.RefundView:
        amount = data.amount if data is not None else None
        return await charges.refund(current_user, payment_id, amount, idempotency_key)
