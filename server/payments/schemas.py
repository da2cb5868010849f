"""Payments on the wire: amounts are integers in minor units with a lower-case ISO currency."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.accounts.schemas import UserPublic

Amount = Annotated[int, msgspec.Meta(gt=0, description="minor units (500 = $5.00)")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z]{3}$", description="ISO 4217, e.g. usd")]
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Id = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,19}$")]
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TipCreate(msgspec.Struct, forbid_unknown_fields=True):
    recipient: Username
    amount: Amount
    currency: Currency
    message: Annotated[str, msgspec.Meta(max_length=500)] = ""
    live_id: Id | None = None


class PurchaseCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Buy a paid post (``post_id``) or video (``video_id``), exactly one; the amount is its price."""

    post_id: Id | None = None
    video_id: Id | None = None


class Payment(msgspec.Struct):
    id: str
    kind: str
    status: str
    amount: int
    currency: str
    fee: int
    client_secret: str | None
    created_at: datetime
    payer: UserPublic | None = None
    recipient: UserPublic | None = None
    refunded: int = 0
    disputed: bool = False
    message: str = ""
    post_id: str | None = None
    video_id: str | None = None
    live_id: str | None = None


class RefundCreate(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount | None = None


class RefundView(msgspec.Struct):
    id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    created_at: datetime


class TierCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    amount: Amount
    currency: Currency
    interval: Literal["month", "year"]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TierView(msgspec.Struct):
    id: str
    creator: UserPublic
    name: str
    description: str
    amount: int
    currency: str
    interval: str
    created_at: datetime


class SubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True):
    tier_id: Id
    trial_days: Annotated[int, msgspec.Meta(ge=0, le=30)] = 0


class SubscriptionChange(msgspec.Struct, forbid_unknown_fields=True):
    """Move to another tier of the same creator (Stripe prorates the difference)."""

    tier_id: Id


class SubscriptionView(msgspec.Struct):
    id: str
    tier: TierView
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    access: bool
    created_at: datetime
    client_secret: str | None = None


class PayoutAccountView(msgspec.Struct):
    account_id: str
    onboarding_url: str | None
    charges_enabled: bool = False
    payouts_enabled: bool = False


class ByKind(msgspec.Struct):
    tip: int = 0
    subscription: int = 0
    content: int = 0
    ads: int = 0


class Earnings(msgspec.Struct):
    currency: str
    available: int
    pending: int
    lifetime: int
    by_kind: ByKind


class PayoutCreate(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency | None = None


class PayoutView(msgspec.Struct):
    id: str
    amount: int
    currency: str
    status: str
    failure_message: str
    created_at: datetime


class MonthEarnings(msgspec.Struct):
    month: str
    tip: int = 0
    subscription: int = 0
    content: int = 0
    ads: int = 0


class CreatorAnalytics(msgspec.Struct):
    currency: str
    by_month: list[MonthEarnings]
    subscribers: int
    mrr: int
    churn: float
    """Subscriptions ended in the last 30 days / active ones 30 days ago."""


class PlatformAnalytics(msgspec.Struct):
    currency: str
    gmv: int
    platform_revenue: int
    ads_revenue: int
    mrr: int
    arr: int
    churn: float
    active_subscriptions: int


class Ack(msgspec.Struct):
    received: bool = True
