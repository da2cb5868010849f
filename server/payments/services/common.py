"""What every payments service shares: Stripe, the rules on amounts, lazy customers, users, locks."""

from __future__ import annotations

from typing import Any

from server.accounts.schemas import UserPublic, user_public
from server.errors import NotFound, ValidationFailed
from server.events import EventBus
from server.payments.gateway import PaymentsUnavailable, StripeGateway
from server.payments.queries import ledger as ledger_queries
from server.payments.queries import users as user_queries
from server.settings import PaymentsSettings


class Context:
    """Settings plus the Stripe gateway (``None`` while payments are not configured), the key that signs
    list cursors, and the process's event bus (payments received, subscriptions started and payouts paid
    are announced on it)."""

    def __init__(
        self,
        settings: PaymentsSettings,
        gateway: StripeGateway | None,
        bus: EventBus,
        public_url: str,
        secret_key: str,
    ) -> None:
        self.settings = settings
        self._gateway = gateway
        self.bus = bus
        self.public_url = public_url
        self.secret_key = secret_key

    @property
    def stripe(self) -> StripeGateway:
        """The gateway, or 503 ``payments_unavailable`` without STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET."""
        if self._gateway is None or not self.settings.enabled:
            raise PaymentsUnavailable("payments are not configured on this server")
        return self._gateway

    def require(self) -> None:
        _ = self.stripe

    def money(self, amount: int, currency: str) -> str:
        """Validate an amount for a payment; the lower-case currency."""
        currency = currency.lower()
        if currency not in self.settings.currencies:
            raise ValidationFailed(f"currency must be one of {', '.join(self.settings.currencies)}")
        if amount < self.settings.min_amount:
            raise ValidationFailed(f"amount must be at least {self.settings.min_amount}")
        if amount > self.settings.max_amount:
            raise ValidationFailed(f"amount must be at most {self.settings.max_amount}")
        return currency

    def fee(self, amount: int) -> int:
        """The platform's application fee on ``amount`` (rounded down)."""
        return amount * self.settings.fee_bps // 10_000

    async def customer_for(self, user_id: int) -> str:
        """The user's Stripe Customer id, created on first use (one per user, even under races)."""
        found = await user_queries.stripe_customer_id(user_id)
        if found:
            return str(found)
        email = await user_queries.user_email(user_id)
        customer = await self.stripe.call(
            "customers.create",
            lambda: self.stripe.v1.customers.create_async(
                params={"email": email or None, "metadata": {"user_id": str(user_id)}},
                options={"idempotency_key": f"sf-customer-{user_id}"},
            ),
        )
        await user_queries.insert_stripe_customer(user_id, customer["id"])
        return str(await user_queries.stripe_customer_id(user_id))


async def lock(name: str) -> None:
    """A transaction-scoped advisory lock on ``name``: concurrent requests on one key take turns."""
    await ledger_queries.advisory_lock(name)


async def users_by_id(ids: set[int]) -> dict[int, UserPublic]:
    if not ids:
        return {}
    rows = await user_queries.users_by_id(list(ids))
    return {r["id"]: user_public(dict(r)) for r in rows}


async def user_by_name(username: str) -> dict[str, Any]:
    row = await user_queries.active_user_by_name(username)
    if row is None:
        raise NotFound("no such user")
    return dict(row)


async def connect_account(user_id: int) -> str:
    """The Connect account that receives ``user_id``'s earnings; 422 until they set up payouts."""
    acct = await user_queries.charges_enabled_account(user_id)
    if acct is None:
        raise ValidationFailed("this creator cannot receive payments yet (no payout account)")
    return str(acct)
