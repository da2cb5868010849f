"""Payments providers for Litestar DI: the services, built on the app's payments context."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from server.payments.services.analytics import AnalyticsService
from server.payments.services.charges import ChargeService
from server.payments.services.common import Context
from server.payments.services.payouts import PayoutService
from server.payments.services.subscriptions import SubscriptionService
from server.payments.services.webhooks import WebhookService


def _ctx(state: State) -> Context:
    return state["payments"]  # type: ignore[no-any-return]


def provide_charges(state: State) -> ChargeService:
    return ChargeService(_ctx(state))


def provide_subscriptions(state: State) -> SubscriptionService:
    return SubscriptionService(_ctx(state))


def provide_payouts(state: State) -> PayoutService:
    return PayoutService(_ctx(state))


def provide_webhooks(state: State) -> WebhookService:
    return WebhookService(_ctx(state))


def provide_analytics(state: State) -> AnalyticsService:
    return AnalyticsService(_ctx(state))


dependencies = {
    "charges": Provide(provide_charges, sync_to_thread=False),
    "subscriptions": Provide(provide_subscriptions, sync_to_thread=False),
    "payouts": Provide(provide_payouts, sync_to_thread=False),
    "webhooks": Provide(provide_webhooks, sync_to_thread=False),
    "analytics": Provide(provide_analytics, sync_to_thread=False),
}
