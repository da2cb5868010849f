"""The stand-in's Stripe objects and their state machines (the subset Social Flow uses)."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.support.stripe.wire import as_bool, as_int, event, fail, new_id

DAY = 86400


def _now() -> int:
    return int(time.time())


class Resources:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.objects: dict[str, dict[str, Any]] = {}
        self.balances: dict[str, int] = {}
        """Connected account id -> available balance (transfers in, reversals and payouts out)."""
        self.available_after = 0
        """Seconds from a charge to its funds' ``available_on`` (Stripe: about two days; 0 keeps tests short)."""
        self.routes = [
            ("POST", r"/v1/payment_intents", self.create_intent),
            ("GET", r"/v1/payment_intents/(?P<id>[\w]+)", self.get_intent),
            ("POST", r"/v1/payment_intents/(?P<id>[\w]+)/confirm", self.confirm_intent),
            ("POST", r"/v1/refunds", self.create_refund),
            ("GET", r"/v1/refunds", self.list_refunds),
            ("GET", r"/v1/disputes/(?P<id>[\w]+)", self.get_object),
            ("POST", r"/v1/products", self.create_product),
            ("POST", r"/v1/prices", self.create_price),
            ("POST", r"/v1/subscriptions", self.create_subscription),
            ("GET", r"/v1/subscriptions/(?P<id>[\w]+)", self.get_subscription),
            ("POST", r"/v1/subscriptions/(?P<id>[\w]+)", self.update_subscription),
            ("DELETE", r"/v1/subscriptions/(?P<id>[\w]+)", self.cancel_subscription),
            ("GET", r"/v1/invoices/(?P<id>[\w]+)", self.get_invoice),
            ("GET", r"/v1/balance_transactions/(?P<id>[\w]+)", self.get_object),
            ("POST", r"/v1/accounts", self.create_account),
            ("GET", r"/v1/accounts/(?P<id>[\w]+)", self.get_object),
            ("POST", r"/v1/account_links", self.create_account_link),
            ("GET", r"/v1/transfers/(?P<id>[\w]+)", self.get_object),
            ("GET", r"/v1/application_fees/(?P<id>[\w]+)", self.get_object),
            ("POST", r"/v1/payouts", self.create_payout),
            ("GET", r"/v1/payouts/(?P<id>[\w]+)", self.get_payout),
        ]

    async def api(self, method: str, path: str, params: dict[str, Any], account: str | None) -> tuple[int, Any]:
        for verb, pattern, handler in self.routes:
            m = re.fullmatch(pattern, path)
            if verb == method and m:
                return 200, handler(params=params, account=account, **m.groupdict())
        raise fail(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path})")

    def _get(self, id_: str, kind: str | None = None) -> dict[str, Any]:
        obj = self.objects.get(id_)
        if obj is None or (kind and obj["object"] != kind):
            raise fail(404, "invalid_request_error", f"No such {kind or 'object'}: '{id_}'", "resource_missing")
        return obj

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def get_object(self, *, id: str, params: dict[str, Any], account: str | None) -> dict[str, Any]:
        return self._get(id)

    def _expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        out = dict(obj)
        for path in paths:
            head, _, rest = path.partition(".")
            value = out.get(head)
            if isinstance(value, str) and value in self.objects:
                out[head] = self._expand(self.objects[value], [rest] if rest else [])
                if out[head].get("object") == "invoice" and not rest.startswith("payments"):
                    out[head].pop("payments", None)  # includable: only when asked for
            elif isinstance(value, dict) and rest:
                out[head] = self._expand(value, [rest])
        return out

    # -- PaymentIntents, charges, transfers, application fees -----------------------------------------

    def create_intent(self, *, params: dict[str, Any], account: str | None, invoice: str | None = None) -> Any:
        amount = as_int(params.get("amount"), "amount")
        if amount < 50:
            raise fail(400, "invalid_request_error", "Amount must be at least 50 cents", "amount_too_small", "amount")
        currency = str(params.get("currency", "")).lower()
        if currency not in ("usd", "eur", "gbp"):
            raise fail(400, "invalid_request_error", f"Invalid currency: {currency}", param="currency")
        fee = as_int(params.get("application_fee_amount", 0), "application_fee_amount")
        destination = (params.get("transfer_data") or {}).get("destination")
        if destination is not None:
            self._get(destination, "account")
        if fee > amount:
            raise fail(400, "invalid_request_error", "application_fee_amount exceeds amount")
        pi = {
            "id": new_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "customer": params.get("customer"),
            "status": "requires_payment_method",
            "application_fee_amount": fee or None,
            "transfer_data": {"destination": destination} if destination else None,
            "metadata": params.get("metadata") or {},
            "description": params.get("description"),
            "latest_charge": None,
            "last_payment_error": None,
            "invoice": invoice,
            "created": _now(),
            "livemode": False,
        }
        pi["client_secret"] = f"{pi['id']}_secret_{new_id('x')[2:]}"
        return self._put(pi)

    def get_intent(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        return self._expand(self._get(id, "payment_intent"), params.get("expand") or [])

    def confirm_intent(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        """What Stripe.js does with the client secret: attach a test card and charge it."""
        pi = self._get(id, "payment_intent")
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise fail(
                400, "invalid_request_error", f"PaymentIntent is {pi['status']}", "payment_intent_unexpected_state"
            )
        method = params.get("payment_method", "pm_card_visa")
        if method == "pm_card_chargeDeclined":
            pi["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
            self.server.emit(event("payment_intent.payment_failed", pi))
            if pi["invoice"]:
                self._invoice_failed(self.objects[pi["invoice"]])
            raise fail(402, "card_error", "Your card was declined.", "card_declined")
        self._succeed(pi)
        return pi

    def _succeed(self, pi: dict[str, Any]) -> None:
        amount, fee = pi["amount"], pi["application_fee_amount"] or 0
        stripe_fee = amount * 29 // 1000 + 30  # 2.9 % + 30¢, Stripe's US card pricing
        now = _now()
        txn = self._put(
            {
                "id": new_id("txn"),
                "object": "balance_transaction",
                "amount": amount,
                "currency": pi["currency"],
                "fee": stripe_fee,
                "fee_details": [
                    {"amount": stripe_fee, "currency": pi["currency"], "type": "stripe_fee", "description": None}
                ],
                "net": amount - stripe_fee,
                "status": "pending" if self.available_after else "available",
                "available_on": now + self.available_after,
                "created": now,
                "reporting_category": "charge",
                "source": None,
                "type": "charge",
            }
        )
        charge = self._put(
            {
                "id": new_id("ch"),
                "object": "charge",
                "amount": amount,
                "amount_refunded": 0,
                "currency": pi["currency"],
                "payment_intent": pi["id"],
                "balance_transaction": txn["id"],
                "status": "succeeded",
                "paid": True,
                "refunded": False,
                "disputed": False,
                "application_fee_amount": fee or None,
                "transfer": None,
                "created": _now(),
            }
        )
        destination = (pi.get("transfer_data") or {}).get("destination")
        if destination:
            transfer = self._put(
                {
                    "id": new_id("tr"),
                    "object": "transfer",
                    "amount": amount - fee,
                    "currency": pi["currency"],
                    "destination": destination,
                    "source_transaction": charge["id"],
                    "amount_reversed": 0,
                    "created": _now(),
                }
            )
            charge["transfer"] = transfer["id"]
            self.balances[destination] = self.balances.get(destination, 0) + amount - fee
            if fee:
                charge["application_fee"] = self._put(
                    {
                        "id": new_id("fee"),
                        "object": "application_fee",
                        "amount": fee,
                        "amount_refunded": 0,
                        "currency": pi["currency"],
                        "account": destination,
                        "charge": charge["id"],
                    }
                )["id"]
        txn["source"] = charge["id"]
        pi.update(status="succeeded", amount_received=amount, latest_charge=charge["id"])
        self.server.emit(event("charge.succeeded", charge))
        self.server.emit(event("payment_intent.succeeded", pi))
        if pi["invoice"]:
            self._invoice_paid(self.objects[pi["invoice"]])

    # -- refunds and disputes ----------------------------------------------------------------------

    def create_refund(self, *, params: dict[str, Any], account: str | None) -> Any:
        pi = self._get(str(params.get("payment_intent")), "payment_intent")
        if pi["status"] != "succeeded":
            raise fail(400, "invalid_request_error", "This PaymentIntent has no successful charge to refund.")
        charge = self.objects[pi["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = as_int(params.get("amount", remaining), "amount")
        if amount <= 0 or amount > remaining:
            raise fail(400, "invalid_request_error", f"Refund amount ({amount}) is greater than unrefunded amount")
        if charge["disputed"]:
            raise fail(400, "invalid_request_error", "Charge has been disputed", "charge_disputed")
        refund = self._put(
            {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": pi["id"],
                "status": "succeeded",
                "metadata": params.get("metadata") or {},
                "created": _now(),
            }
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        destination = (pi.get("transfer_data") or {}).get("destination")
        if destination and as_bool(params.get("reverse_transfer")):
            fee = pi["application_fee_amount"] or 0
            reversed_ = amount - fee * amount // pi["amount"]
            self.balances[destination] = self.balances.get(destination, 0) - reversed_
            self.objects[charge["transfer"]]["amount_reversed"] += reversed_
        if as_bool(params.get("refund_application_fee")) and charge.get("application_fee"):
            fee_obj = self.objects[charge["application_fee"]]
            fee_obj["amount_refunded"] += (pi["application_fee_amount"] or 0) * amount // pi["amount"]
        refunds = [o for o in self.objects.values() if o["object"] == "refund" and o["charge"] == charge["id"]]
        self.server.emit(event("refund.created", refund))
        self.server.emit(event("charge.refunded", {**charge, "refunds": {"object": "list", "data": refunds}}))
        return refund

    def list_refunds(self, *, params: dict[str, Any], account: str | None) -> Any:
        pi = params.get("payment_intent")
        data = [o for o in self.objects.values() if o["object"] == "refund" and o["payment_intent"] == pi]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"}

    # -- products, prices, subscriptions, invoices -------------------------------------------------

    def create_product(self, *, params: dict[str, Any], account: str | None) -> Any:
        if not params.get("name"):
            raise fail(400, "invalid_request_error", "Missing required param: name.", param="name")
        return self._put(
            {
                "id": new_id("prod"),
                "object": "product",
                "name": params["name"],
                "active": True,
                "metadata": params.get("metadata") or {},
                "created": _now(),
            }
        )

    def create_price(self, *, params: dict[str, Any], account: str | None) -> Any:
        self._get(str(params.get("product")), "product")
        interval = (params.get("recurring") or {}).get("interval")
        if interval not in ("month", "year"):
            raise fail(400, "invalid_request_error", "Invalid recurring[interval]", param="recurring[interval]")
        return self._put(
            {
                "id": new_id("price"),
                "object": "price",
                "product": params["product"],
                "unit_amount": as_int(params.get("unit_amount"), "unit_amount"),
                "currency": str(params.get("currency")).lower(),
                "recurring": {"interval": interval, "interval_count": 1},
                "type": "recurring",
                "active": True,
                "created": _now(),
            }
        )

    def create_subscription(self, *, params: dict[str, Any], account: str | None) -> Any:
        customer = str(params.get("customer"))
        items = params.get("items") or []
        if len(items) != 1:
            raise fail(400, "invalid_request_error", "Exactly one item is supported here", param="items")
        price = self._get(str(items[0].get("price")), "price")
        destination = (params.get("transfer_data") or {}).get("destination")
        if destination is not None:
            self._get(destination, "account")
        trial = as_int(params.get("trial_period_days", 0), "trial_period_days")
        now = _now()
        sub = self._put(
            {
                "id": new_id("sub"),
                "object": "subscription",
                "customer": customer,
                "status": "trialing" if trial else "incomplete",
                "cancel_at_period_end": False,
                "canceled_at": None,
                "trial_end": now + trial * DAY if trial else None,
                "application_fee_percent": float(params.get("application_fee_percent") or 0),
                "transfer_data": {"destination": destination} if destination else None,
                "metadata": params.get("metadata") or {},
                "latest_invoice": None,
                "created": now,
                "items": {"object": "list", "data": []},
            }
        )
        end = now + (trial * DAY if trial else self._period(price))
        sub["items"]["data"] = [
            {
                "id": new_id("si"),
                "object": "subscription_item",
                "price": price,
                "quantity": 1,
                "current_period_start": now,
                "current_period_end": end,
                "subscription": sub["id"],
            }
        ]
        invoice = self._new_invoice(sub, 0 if trial else price["unit_amount"], "subscription_create")
        self.server.emit(event("customer.subscription.created", self._sub_view(sub)))
        if trial:
            self._invoice_paid(invoice)
        return self._expand(self._sub_view(sub), params.get("expand") or [])

    def _period(self, price: dict[str, Any]) -> int:
        return (365 if price["recurring"]["interval"] == "year" else 30) * DAY

    def _sub_view(self, sub: dict[str, Any]) -> dict[str, Any]:
        return {**sub, "items": {"object": "list", "data": [dict(i) for i in sub["items"]["data"]]}}

    def _new_invoice(self, sub: dict[str, Any], amount: int, reason: str) -> dict[str, Any]:
        price = sub["items"]["data"][0]["price"]
        pct = sub["application_fee_percent"]
        invoice = self._put(
            {
                "id": new_id("in"),
                "object": "invoice",
                "customer": sub["customer"],
                "currency": price["currency"],
                "amount_due": amount,
                "amount_paid": 0,
                "application_fee_amount": round(amount * pct / 100) if amount else None,
                "billing_reason": reason,
                "status": "open" if amount else "draft",
                "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub["id"]}},
                "confirmation_secret": None,
                "payments": {"object": "list", "data": [], "has_more": False, "url": "/v1/invoice_payments"},
                "created": _now(),
            }
        )
        sub["latest_invoice"] = invoice["id"]
        if amount:
            pi = self.create_intent(
                params={
                    "amount": amount,
                    "currency": price["currency"],
                    "customer": sub["customer"],
                    "application_fee_amount": invoice["application_fee_amount"] or 0,
                    "transfer_data": sub["transfer_data"],
                },
                account=None,
                invoice=invoice["id"],
            )
            invoice["confirmation_secret"] = {"client_secret": pi["client_secret"], "type": "payment_intent"}
            invoice["payments"]["data"].append(
                {
                    "id": new_id("inpay"),
                    "object": "invoice_payment",
                    "invoice": invoice["id"],
                    "amount_requested": amount,
                    "amount_paid": None,
                    "currency": price["currency"],
                    "is_default": True,
                    "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
                    "status": "open",
                    "created": _now(),
                }
            )
        return invoice

    def get_invoice(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        """``payments`` is includable: Stripe sends it only when asked (``expand[]=payments``)."""
        invoice = self._get(id, "invoice")
        if "payments" in (params.get("expand") or []):
            return invoice
        return {k: v for k, v in invoice.items() if k != "payments"}

    def _invoice_paid(self, invoice: dict[str, Any]) -> None:
        invoice.update(status="paid", amount_paid=invoice["amount_due"])
        for payment in invoice["payments"]["data"]:
            payment.update(status="paid", amount_paid=payment["amount_requested"])
        sub = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
        if sub["status"] in ("incomplete", "past_due", "unpaid"):
            sub["status"] = "active"
            self.server.emit(event("customer.subscription.updated", self._sub_view(sub)))
        self.server.emit(event("invoice.paid", invoice))

    def _invoice_failed(self, invoice: dict[str, Any]) -> None:
        sub = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
        self.server.emit(event("invoice.payment_failed", invoice))
        if sub["status"] in ("active", "trialing"):
            sub["status"] = "past_due"
            self.server.emit(event("customer.subscription.updated", self._sub_view(sub)))

    def get_subscription(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        return self._expand(self._sub_view(self._get(id, "subscription")), params.get("expand") or [])

    def update_subscription(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        sub = self._get(id, "subscription")
        if sub["status"] == "canceled":
            raise fail(400, "invalid_request_error", "A canceled subscription can only update its metadata")
        if "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = as_bool(params["cancel_at_period_end"])
        for item in params.get("items") or []:
            current = sub["items"]["data"][0]
            if item.get("id") != current["id"]:
                raise fail(400, "invalid_request_error", "No such subscription item", "resource_missing")
            new_price = self._get(str(item.get("price")), "price")
            if params.get("proration_behavior", "create_prorations") == "create_prorations":
                # The unused time of the old price and the rest of the period at the new one: one proration item.
                left = max(0, current["current_period_end"] - _now()) / max(1, self._period(current["price"]))
                sub.setdefault("pending_prorations", []).append(
                    round((new_price["unit_amount"] - current["price"]["unit_amount"]) * left)
                )
            current["price"] = new_price
        self.server.emit(event("customer.subscription.updated", self._sub_view(sub)))
        return self._sub_view(sub)

    def cancel_subscription(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        sub = self._get(id, "subscription")
        sub.update(status="canceled", canceled_at=_now())
        self.server.emit(event("customer.subscription.deleted", self._sub_view(sub)))
        return self._sub_view(sub)

    # -- Connect: accounts, account links, payouts -------------------------------------------------

    def create_account(self, *, params: dict[str, Any], account: str | None) -> Any:
        if params.get("type") != "express":
            raise fail(400, "invalid_request_error", "Only express accounts here", param="type")
        return self._put(
            {
                "id": new_id("acct"),
                "object": "account",
                "type": "express",
                "email": params.get("email"),
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "default_currency": "usd",
                "metadata": params.get("metadata") or {},
                "created": _now(),
            }
        )

    def create_account_link(self, *, params: dict[str, Any], account: str | None) -> Any:
        acct = self._get(str(params.get("account")), "account")
        if params.get("type") != "account_onboarding" or not params.get("return_url"):
            raise fail(400, "invalid_request_error", "type and return_url are required")
        return {
            "object": "account_link",
            "url": f"{self.server.base}/connect/onboarding/{acct['id']}",
            "created": _now(),
            "expires_at": _now() + 300,
        }

    def create_payout(self, *, params: dict[str, Any], account: str | None) -> Any:
        if account is None:
            raise fail(400, "invalid_request_error", "Payouts here are made on a connected account (Stripe-Account)")
        acct = self._get(account, "account")
        if not acct["payouts_enabled"]:
            raise fail(400, "invalid_request_error", "Payouts are not enabled for this account")
        amount = as_int(params.get("amount"), "amount")
        if amount > self.balances.get(account, 0):
            raise fail(
                400,
                "invalid_request_error",
                "You have insufficient funds in your Stripe account.",
                "balance_insufficient",
            )
        self.balances[account] -= amount
        return self._put(
            {
                "id": new_id("po"),
                "object": "payout",
                "amount": amount,
                "currency": params.get("currency"),
                "status": "pending",
                "failure_message": None,
                "destination": new_id("ba"),
                "arrival_date": _now() + 2 * DAY,
                "created": _now(),
                "account": account,
            }
        )

    def get_payout(self, *, id: str, params: dict[str, Any], account: str | None) -> Any:
        po = self._get(id, "payout")
        if po["account"] != account:
            raise fail(404, "invalid_request_error", f"No such payout: '{id}'", "resource_missing")
        return po

    # -- test controls -----------------------------------------------------------------------------

    async def control(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        try:
            if parts[0] == "accounts" and parts[2] == "onboard":
                acct = self._get(parts[1], "account")
                acct.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
                self.server.emit(event("account.updated", acct, account=acct["id"]))
                return 200, acct
            if parts[0] == "payouts":
                po = self._get(parts[1], "payout")
                if as_bool(params.get("fail")):
                    po.update(status="failed", failure_message="The bank account could not be found.")
                    self.balances[po["account"]] += po["amount"]
                else:
                    po["status"] = "paid"
                self.server.emit(event(f"payout.{po['status']}", po, account=po["account"]))
                return 200, po
            if parts[0] == "disputes" and len(parts) == 1:
                pi = self._get(str(params.get("payment_intent")), "payment_intent")
                charge = self.objects[pi["latest_charge"]]
                charge["disputed"] = True
                dp = self._put(
                    {
                        "id": new_id("dp"),
                        "object": "dispute",
                        "amount": as_int(params.get("amount", charge["amount"]), "amount"),
                        "currency": charge["currency"],
                        "charge": charge["id"],
                        "payment_intent": pi["id"],
                        "status": "needs_response",
                        "reason": "fraudulent",
                        "created": _now(),
                    }
                )
                self.server.emit(event("charge.dispute.created", dp))
                return 200, dp
            if parts[0] == "disputes" and parts[2] == "close":
                dp = self._get(parts[1], "dispute")
                dp["status"] = params.get("status", "won")
                self.objects[dp["charge"]]["disputed"] = dp["status"] != "won"
                self.server.emit(event("charge.dispute.closed", dp))
                return 200, dp
            if parts[0] == "subscriptions" and parts[2] == "renew":
                sub = self._get(parts[1], "subscription")
                price = sub["items"]["data"][0]["price"]
                amount = price["unit_amount"] + sum(sub.pop("pending_prorations", []))
                item = sub["items"]["data"][0]
                item["current_period_end"] = _now() + self._period(price)
                invoice = self._new_invoice(sub, max(amount, 0), "subscription_cycle")
                payments = invoice["payments"]["data"]
                pi = self.objects.get(payments[0]["payment"]["payment_intent"]) if payments else None
                if as_bool(params.get("fail")):
                    self._invoice_failed(invoice)
                elif pi is not None:
                    self._succeed(pi)
                else:
                    self._invoice_paid(invoice)
                return 200, invoice
        except IndexError:
            pass
        return 404, {"error": {"type": "invalid_request_error", "message": f"unknown control {path}"}}
