"""Creators' Connect Express accounts, their earnings (sums of ledger entries) and payouts."""

from __future__ import annotations

from typing import Any

from models.ids import new_id
from server import cursor as cursor_codec
from server import db
from server.deps import CurrentUser
from server.errors import ValidationFailed
from server.pagination import Page
from server.payments import ledger, schemas
from server.payments.queries import payouts as payout_queries
from server.payments.queries import users as user_queries
from server.payments.services.common import Context, lock


def payout_view(r: Any) -> schemas.PayoutView:
    return schemas.PayoutView(
        id=str(r["id"]),
        amount=r["amount"],
        currency=r["currency"],
        status=r["status"],
        failure_message=r["failure_message"],
        created_at=r["created_at"],
    )


async def earnings(user_id: int, currency: str) -> schemas.Earnings:
    """Available, pending (not yet available at Stripe, held by disputes, on the way to the bank), lifetime, by kind."""
    async with db.transaction():
        await lock(f"creator:{user_id}")
        await ledger.release_due(user_id)
    available = -await ledger.balance(ledger.creator_account(user_id), currency)
    pending = -await ledger.balance(ledger.creator_account(user_id, "pending"), currency)
    held = -await ledger.balance(ledger.creator_account(user_id, "held"), currency)
    in_transit = -await ledger.balance(ledger.creator_account(user_id, "in_transit"), currency)
    # Net earnings: what charges credited, less refunds and lost disputes (wherever the money sat).
    rows = await payout_queries.earnings_by_kind(
        [ledger.creator_account(user_id, b) for b in ledger.EARNING_BUCKETS], currency
    )
    by_kind = {r["kind"]: int(r["total"]) for r in rows if r["kind"] in ledger.KINDS}
    return schemas.Earnings(
        currency=currency,
        available=available,
        pending=pending + held + in_transit,
        lifetime=sum(by_kind.values()),
        by_kind=schemas.ByKind(**by_kind),
    )


class PayoutService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def payout_account(self, creator: CurrentUser) -> schemas.PayoutAccountView:
        """The creator's Express account (made once) and a fresh onboarding link."""
        self.ctx.require()
        stripe = self.ctx.stripe
        async with db.transaction():
            await lock(f"creator:{creator.id}")
            row = await payout_queries.payout_account(creator.id)
            if row is None:
                email = await user_queries.user_email(creator.id)
                account = await stripe.call(
                    "accounts.create",
                    lambda: stripe.v1.accounts.create_async(
                        params={
                            "type": "express",
                            "email": email,
                            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
                            "metadata": {"user_id": str(creator.id)},
                        },
                        options={"idempotency_key": f"sf-account-{creator.id}"},
                    ),
                )
                row = await payout_queries.insert_payout_account(
                    creator.id,
                    account["id"],
                    bool(account.get("charges_enabled")),
                    bool(account.get("payouts_enabled")),
                    bool(account.get("details_submitted")),
                    (account.get("default_currency") or "usd").lower(),
                )
        assert row is not None
        base = self.ctx.public_url
        link = await stripe.call(
            "account_links.create",
            lambda: stripe.v1.account_links.create_async(
                params={
                    "account": row["account_id"],
                    "type": "account_onboarding",
                    "refresh_url": f"{base}/app/payouts/refresh",
                    "return_url": f"{base}/app/payouts/done",
                }
            ),
        )
        return schemas.PayoutAccountView(
            account_id=row["account_id"],
            onboarding_url=link["url"],
            charges_enabled=row["charges_enabled"],
            payouts_enabled=row["payouts_enabled"],
        )

    async def earnings(self, creator: CurrentUser, currency: str | None) -> schemas.Earnings:
        self.ctx.require()
        return await earnings(creator.id, await self._currency(creator.id, currency))

    async def request(self, creator: CurrentUser, data: schemas.PayoutCreate, key: str | None) -> schemas.PayoutView:
        """Pay ``amount`` of the available balance out to the creator's bank; more than available -> 422."""
        self.ctx.require()
        currency = await self._currency(creator.id, data.currency)
        idem = f"{creator.id}:{key or new_id()}"
        stripe = self.ctx.stripe
        async with db.transaction():
            await lock(f"creator:{creator.id}")
            row = await payout_queries.payout_by_idem(idem)
            if row is not None:
                return payout_view(row)
            account = await payout_queries.payout_account(creator.id)
            if account is None or not account["payouts_enabled"]:
                raise ValidationFailed("finish payout onboarding first")
            await ledger.release_due(creator.id)
            available = -await ledger.balance(ledger.creator_account(creator.id), currency)
            if data.amount > available:
                raise ValidationFailed(f"amount is over your available balance ({available} {currency})")
            payout = await stripe.call(
                "payouts.create",
                lambda: stripe.v1.payouts.create_async(
                    params={"amount": data.amount, "currency": currency, "metadata": {"creator": str(creator.id)}},
                    options={"idempotency_key": f"sf-payout-{idem}", "stripe_account": account["account_id"]},
                ),
            )
            row = await payout_queries.insert_payout(
                new_id(), creator.id, data.amount, currency, payout["status"], payout["id"], idem
            )
            await ledger.post(
                f"payout:{payout['id']}:request",
                "payout",
                currency,
                [
                    (ledger.creator_account(creator.id), data.amount),
                    (ledger.creator_account(creator.id, "in_transit"), -data.amount),
                ],
                creator=creator.id,
            )
        return payout_view(row)

    async def list(self, creator: CurrentUser, limit: int, cursor: str | None) -> Page[schemas.PayoutView]:
        self.ctx.require()
        after = cursor_codec.decode_id(self.ctx.secret_key, "payouts", cursor or None)
        rows = await payout_queries.payouts_of(creator.id, after, limit + 1)
        return Page(
            items=[payout_view(r) for r in rows[:limit]],
            next_cursor=cursor_codec.next_id(self.ctx.secret_key, "payouts", [r["id"] for r in rows], limit),
        )

    async def _currency(self, user_id: int, currency: str | None) -> str:
        if currency:
            currency = currency.lower()
            if currency not in self.ctx.settings.currencies:
                raise ValidationFailed(f"currency must be one of {', '.join(self.ctx.settings.currencies)}")
            return currency
        found = await payout_queries.payout_default_currency(user_id)
        return str(found or self.ctx.settings.currencies[0])
