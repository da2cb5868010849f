"""Payments SQL, as named functions, one module per concern.

Raw SQL because the ledger is set-based (double-entry postings, balances summed per account, rows locked
``FOR UPDATE`` in a fixed order) and the analytics are aggregates with ``FILTER`` clauses the builder
cannot express. Each function runs on the caller's transaction when there is one (``server.sql`` joins
it), so a lock taken here is held until the caller's ``db.transaction()`` ends.

- ``access``: the predicates other domains embed in their visibility rules (``bought``,
  ``subscriber_access``).
- ``analytics``: aggregates over the ledger and the subscriptions (earnings by month, MRR, churn, totals).
- ``webhooks``: the Stripe webhook inbox (``stripe_events``).
- ``ledger``: double-entry transactions and entries, balances, the named advisory lock, and the ledger's
  consistency checks.
- ``users``: users, Stripe customers and the charge-enabled account every service shares.
- ``payouts``: creators' Connect accounts, payouts and earnings by kind.
- ``payments``: tips and purchases, their refunds and dispute holds.
- ``subscriptions``: tiers and fan subscriptions (access, mirroring Stripe's state).
"""
