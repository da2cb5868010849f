"""Subscription tiers (a Stripe Product + recurring Price) and fans' Subscriptions to them.

Access to a creator's ``subscribers`` content is ``fan_subscriptions.access_until > now()``: set to
infinity by ``invoice.paid``, cut to now + grace when the subscription goes ``past_due``, and to now
when it ends. Creating a subscription grants nothing by itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.ids import new_id
from server import cursor as cursor_codec
from server import db
from server.deps import CurrentUser
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page
from server.params import body_id
from server.payments import schemas
from server.payments.queries import subscriptions as subscription_queries
from server.payments.services.common import Context, connect_account, lock, user_by_name, users_by_id

LIVE_STATUSES = ("incomplete", "trialing", "active", "past_due", "unpaid")


def tier_view(r: Any, users: dict[int, Any]) -> schemas.TierView:
    return schemas.TierView(
        id=str(r["id"]),
        creator=users[r["creator"]],
        name=r["name"],
        description=r["description"],
        amount=r["amount"],
        currency=r["currency"],
        interval=r["interval"],
        created_at=r["created_at"],
    )


def period_end(sub: Any) -> datetime | None:
    """``current_period_end`` (on the subscription item in current API versions, on the subscription before)."""
    value = sub.get("current_period_end")
    items = (sub.get("items") or {}).get("data") or []
    if value is None and items:
        value = items[0].get("current_period_end")
    return datetime.fromtimestamp(int(value), UTC) if value else None


class SubscriptionService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def create_tier(self, creator: CurrentUser, data: schemas.TierCreate, key: str | None) -> schemas.TierView:
        self.ctx.require()
        currency = self.ctx.money(data.amount, data.currency)
        idem = f"{creator.id}:{key or new_id()}"
        stripe = self.ctx.stripe
        async with db.transaction():
            await lock(f"tier:{idem}")
            row = await subscription_queries.tier_by_idem(idem)
            if row is None:
                product = await stripe.call(
                    "products.create",
                    lambda: stripe.v1.products.create_async(
                        params={"name": data.name, "metadata": {"creator": str(creator.id)}},
                        options={"idempotency_key": f"sf-tier-product-{idem}"},
                    ),
                )
                price = await stripe.call(
                    "prices.create",
                    lambda: stripe.v1.prices.create_async(
                        params={
                            "product": product["id"],
                            "unit_amount": data.amount,
                            "currency": currency,
                            "recurring": {"interval": data.interval},
                        },
                        options={"idempotency_key": f"sf-tier-price-{idem}"},
                    ),
                )
                row = await subscription_queries.insert_tier(
                    new_id(),
                    creator.id,
                    data.name,
                    data.description,
                    data.amount,
                    currency,
                    data.interval,
                    product["id"],
                    price["id"],
                    idem,
                )
        return tier_view(row, await users_by_id({creator.id}))

    async def tiers_of(self, username: str) -> list[schemas.TierView]:
        user = await user_by_name(username)
        rows = await subscription_queries.tiers_of(user["id"])
        users = await users_by_id({user["id"]})
        return [tier_view(r, users) for r in rows]

    async def subscribe(
        self, fan: CurrentUser, data: schemas.SubscriptionCreate, key: str | None
    ) -> schemas.SubscriptionView:
        self.ctx.require()
        # A suspended creator's tiers (a deletion pending, or the purged accounts' placeholder) take no one new.
        tier = await subscription_queries.open_tier(body_id(data.tier_id))
        if tier is None:
            raise NotFound("no such tier")
        if tier["creator"] == fan.id:
            raise ValidationFailed("you cannot subscribe to your own tier")
        idem = f"{fan.id}:{key or new_id()}"
        stripe = self.ctx.stripe
        async with db.transaction():
            await lock(f"fan:{fan.id}:{tier['creator']}")
            row = await subscription_queries.subscription_by_idem(idem)
            if row is not None:
                return await self._view(row)
            live = await subscription_queries.live_subscription_id(fan.id, tier["creator"], list(LIVE_STATUSES))
            if live is not None:
                raise Conflict("you already subscribe to this creator; change the tier instead")
            destination = await connect_account(tier["creator"])
            customer = await self.ctx.customer_for(fan.id)
            params: dict[str, Any] = {
                "customer": customer,
                "items": [{"price": tier["price_id"]}],
                "payment_behavior": "default_incomplete",
                "payment_settings": {"save_default_payment_method": "on_subscription"},
                "application_fee_percent": self.ctx.settings.fee_bps / 100,
                "transfer_data": {"destination": destination},
                "metadata": {"subscriber": str(fan.id), "creator": str(tier["creator"]), "tier": str(tier["id"])},
                "expand": ["latest_invoice.confirmation_secret"],
            }
            if data.trial_days:
                params["trial_period_days"] = data.trial_days
            sub = await stripe.call(
                "subscriptions.create",
                lambda: stripe.v1.subscriptions.create_async(
                    params=params, options={"idempotency_key": f"sf-subscription-{idem}"}
                ),
            )
            invoice = sub.get("latest_invoice") or {}
            secret = (invoice.get("confirmation_secret") or {}).get("client_secret") if invoice else None
            items = sub["items"]["data"]
            row = await subscription_queries.insert_subscription(
                new_id(),
                fan.id,
                tier["creator"],
                tier["id"],
                sub["id"],
                items[0]["id"] if items else "",
                sub["status"],
                secret,
                period_end(sub),
                idem,
            )
        return await self._view(row)

    async def change_tier(self, fan: CurrentUser, sub_id: int, tier_id: int) -> schemas.SubscriptionView:
        """Upgrade or downgrade to another tier of the same creator, prorated by Stripe."""
        self.ctx.require()
        stripe = self.ctx.stripe
        async with db.transaction():
            row = await self._mine(fan, sub_id, for_update=True)
            tier = await subscription_queries.tier(tier_id)
            if tier is None or tier["creator"] != row["creator"]:
                raise NotFound("no such tier of this creator")
            if row["ended_at"] is not None or row["status"] not in LIVE_STATUSES:
                raise Conflict("this subscription has ended")
            if tier["id"] == row["tier"]:
                return await self._view(row)
            sub = await stripe.call(
                "subscriptions.update",
                lambda: stripe.v1.subscriptions.update_async(
                    row["subscription_id"],
                    params={
                        "items": [{"id": row["item_id"], "price": tier["price_id"]}],
                        "proration_behavior": "create_prorations",
                    },
                    options={"idempotency_key": f"sf-change-{row['id']}-{tier['id']}-{row['tier']}"},
                ),
            )
            row = await subscription_queries.change_subscription_tier(
                row["id"], tier["id"], sub["status"], period_end(sub)
            )
        return await self._view(row)

    async def cancel(self, fan: CurrentUser, sub_id: int, immediately: bool) -> schemas.SubscriptionView:
        """Cancel at the period's end (access continues until then) or now (access ends now)."""
        self.ctx.require()
        stripe = self.ctx.stripe
        async with db.transaction():
            row = await self._mine(fan, sub_id, for_update=True)
            if row["ended_at"] is not None:
                return await self._view(row)
            if immediately:
                sub = await stripe.call(
                    "subscriptions.cancel",
                    lambda: stripe.v1.subscriptions.cancel_async(row["subscription_id"]),
                )
                row = await subscription_queries.cancel_subscription_now(row["id"], sub["status"])
            else:
                sub = await stripe.call(
                    "subscriptions.update",
                    lambda: stripe.v1.subscriptions.update_async(
                        row["subscription_id"], params={"cancel_at_period_end": True}
                    ),
                )
                row = await subscription_queries.cancel_subscription_at_period_end(row["id"], sub["status"])
        return await self._view(row)

    async def mine(self, fan: CurrentUser, limit: int, cursor: str | None) -> Page[schemas.SubscriptionView]:
        self.ctx.require()
        after = cursor_codec.decode_id(self.ctx.secret_key, "subscriptions", cursor or None)
        rows = await subscription_queries.subscriptions_of(fan.id, after, limit + 1)
        items = [await self._view(r) for r in rows[:limit]]
        return Page(
            items=items,
            next_cursor=cursor_codec.next_id(self.ctx.secret_key, "subscriptions", [r["id"] for r in rows], limit),
        )

    async def get(self, fan: CurrentUser, sub_id: int) -> schemas.SubscriptionView:
        self.ctx.require()
        return await self._view(await self._mine(fan, sub_id))

    async def _mine(self, fan: CurrentUser, sub_id: int, *, for_update: bool = False) -> Any:
        row = await subscription_queries.subscription_of(sub_id, fan.id, for_update=for_update)
        if row is None:
            raise NotFound("no such subscription")
        return row

    async def _view(self, r: Any) -> schemas.SubscriptionView:
        tier = await subscription_queries.tier(r["tier"])
        assert tier is not None  # tiers are never deleted while subscribed (ON DELETE RESTRICT)
        users = await users_by_id({tier["creator"]})
        access = r["access_until"] is not None and r["access_until"] > datetime.now(UTC)
        return schemas.SubscriptionView(
            id=str(r["id"]),
            tier=tier_view(tier, users),
            status=r["status"],
            current_period_end=r["current_period_end"],
            cancel_at_period_end=r["cancel_at_period_end"],
            access=access,
            created_at=r["created_at"],
            client_secret=r["client_secret"] if r["status"] == "incomplete" else None,
        )
