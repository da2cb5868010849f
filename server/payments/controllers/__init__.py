"""Payments HTTP endpoints: one thin controller per resource."""

from server.payments.controllers.analytics import AdminPaymentsController
from server.payments.controllers.creators import CreatorPaymentsController
from server.payments.controllers.payments import PaymentController
from server.payments.controllers.subscriptions import SubscriptionController, TierController
from server.payments.controllers.webhooks import StripeWebhookController

CONTROLLERS = [
    PaymentController,
    StripeWebhookController,
    TierController,
    SubscriptionController,
    CreatorPaymentsController,
    AdminPaymentsController,
]
