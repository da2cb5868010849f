"""Stripe's wire format: form-encoded nested parameters in, JSON objects and errors out, signed events."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

_PART = re.compile(r"[^\[\]]+|\[\]")


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``items[0][price]=p&expand[0]=x&metadata[k]=v`` -> nested dicts and lists, as Stripe reads them."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _PART.findall(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "[]":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _lists(v) for k, v in node.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def error(status: int, type_: str, message: str, code: str | None = None, param: str | None = None) -> tuple:
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return status, {"error": body}


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=<ts>,v1=<hex HMAC-SHA256 of "ts.payload">``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event(type_: str, obj: dict[str, Any], account: str | None = None) -> dict[str, Any]:
    evt = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": type_,
        "data": {"object": json.loads(json.dumps(obj))},
    }
    if account:
        evt["account"] = account
    return evt


def as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(*error(400, "invalid_request_error", f"Invalid integer: {value}", param=name)) from None


def as_bool(value: Any) -> bool:
    return str(value).lower() == "true"


class StripeError(Exception):
    """Answer this status and Stripe error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"]["message"])
        self.status, self.body = status, body


def fail(status: int, type_: str, message: str, code: str | None = None, param: str | None = None) -> StripeError:
    return StripeError(*error(status, type_, message, code, param))
