"""A local Stripe stand-in: an aiohttp server speaking Stripe's wire format for the calls Social Flow makes.

It fronts a real ``localstripe`` process for Customers (``/v1/customers``), and implements itself what
localstripe lacks or refuses: PaymentIntents with ``application_fee_amount`` and ``transfer_data``
(destination charges), Prices, Subscriptions on Prices, Connect accounts and account links, transfers,
application fees, refunds with transfer reversal, disputes, payouts, and Idempotency-Key replay.

Events it would send as webhooks are queued; ``deliver`` posts them, signed, like ``stripe listen``.
Test controls live under ``/_test/`` (confirming as Stripe.js would is ordinary ``/v1`` API).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.stripe.resources import Resources
from tests.support.stripe.wire import StripeError, decode_form, error, sign

LOCALSTRIPE_PORT_ENV = "LOCALSTRIPE_PORT"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalStripe:
    """The ``localstripe`` package from PyPI, run as its own process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = Path(sys.executable).with_name("localstripe")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "localstripe"]
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("localstripe did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class StripeStandin:
    """The stand-in server; ``base`` is what ``STRIPE_API_BASE`` points at."""

    def __init__(self, localstripe: LocalStripe, webhook_secret: str) -> None:
        self.localstripe = localstripe
        self.webhook_secret = webhook_secret
        self.port = free_port()
        self.runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None
        self.reset()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.res = Resources(self)
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.idempotent: dict[str, tuple[str, int, Any]] = {}
        self.idem_locks: dict[str, asyncio.Lock] = {}
        self.failures: list[int] = []
        """Statuses for the next requests to answer (a 5xx as Stripe's api_error), one per request."""

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        self.failures.extend([status] * count)

    def emit(self, evt: dict[str, Any]) -> None:
        self.events.append(evt)

    def created(self, path: str) -> list[dict[str, Any]]:
        """The bodies of successful POSTs to ``path`` (e.g. ``/v1/payment_intents``)."""
        return [params for method, p, params, _ in self.requests if method == "POST" and p == path]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        pairs = list((await request.post()).items()) if request.method == "POST" else list(request.query.items())
        params = decode_form([(k, str(v)) for k, v in pairs])
        path = request.path
        if path.startswith("/_test/"):
            status, body = await self.res.control(request.method, path, params)
            return web.json_response(body, status=status)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer sk_test_"):
            status, body = error(401, "invalid_request_error", "Invalid API Key provided")
            return web.json_response(body, status=status)
        if self.failures:
            status = self.failures.pop(0)
            _, body = error(status, "api_error", "An unexpected error occurred (stand-in failure injection).")
            return web.json_response(body, status=status)
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key:
            return await self._idempotent(request, key, path, params)
        status, body = await self._answer(request, path, params)
        return web.json_response(body, status=status)

    async def _idempotent(self, request: web.Request, key: str, path: str, params: dict[str, Any]) -> web.Response:
        """Stripe's rule: a key answers its first result again; other parameters with it are an error."""
        digest = hashlib.sha256(json.dumps([path, params], sort_keys=True).encode()).hexdigest()
        lock = self.idem_locks.setdefault(key, asyncio.Lock())
        async with lock:
            seen = self.idempotent.get(key)
            if seen is not None:
                if seen[0] != digest:
                    status, body = error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters",
                    )
                    return web.json_response(body, status=status)
                return web.json_response(seen[2], status=seen[1], headers={"Idempotent-Replayed": "true"})
            status, body = await self._answer(request, path, params)
            if status < 500:  # Stripe does not save the result of a request that failed on its side
                self.idempotent[key] = (digest, status, body)
            return web.json_response(body, status=status)

    async def _answer(self, request: web.Request, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        if path.startswith("/v1/customers"):
            return await self._proxy(request, path, params)
        try:
            status, body = await self.res.api(request.method, path, params, request.headers.get("Stripe-Account"))
        except StripeError as exc:
            return exc.status, exc.body
        if status < 400:
            self.requests.append((request.method, path, params, dict(request.headers)))
        return status, body

    async def _proxy(self, request: web.Request, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        """Customers live in the real localstripe process."""
        assert self.session is not None
        url = self.localstripe.base + path
        headers = {"Authorization": request.headers["Authorization"]}
        flat = [(k, str(v)) for k, v in (await request.post()).items()] if request.method == "POST" else None
        async with self.session.request(
            request.method, url, data=flat, params=None if flat else request.query, headers=headers
        ) as resp:
            body = await resp.json(content_type=None)
            if resp.status < 400:
                self.requests.append((request.method, path, params, dict(request.headers)))
            return resp.status, body

    async def customer_exists(self, customer_id: str) -> bool:
        assert self.session is not None
        async with self.session.get(
            f"{self.localstripe.base}/v1/customers/{customer_id}", headers={"Authorization": "Bearer sk_test_x"}
        ) as resp:
            return resp.status == 200

    # -- webhooks, as `stripe listen --forward-to` would deliver them ---------------------------------

    def signed(self, evt: dict[str, Any], *, timestamp: int | None = None) -> tuple[str, str]:
        payload = json.dumps(evt)
        return payload, sign(payload, self.webhook_secret, timestamp)

    async def deliver(self, client: Any, path: str = "/api/v1/payments/webhooks/stripe") -> list[int]:
        """POST every queued event to the app, signed, in order; the status codes."""
        statuses = []
        while self.events:
            evt = self.events.pop(0)
            payload, header = self.signed(evt)
            res = await client.post(
                path, content=payload, headers={"Stripe-Signature": header, "Content-Type": "application/json"}
            )
            statuses.append(res.status_code)
        return statuses

    def take(self, type_: str) -> dict[str, Any]:
        """Remove and return the first queued event of ``type_``."""
        for i, evt in enumerate(self.events):
            if evt["type"] == type_:
                return self.events.pop(i)
        raise AssertionError(f"no {type_} event queued (have {[e['type'] for e in self.events]})")


def webhook_secret() -> str:
    return "whsec_" + os.urandom(16).hex()
