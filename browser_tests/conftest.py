"""A real server (``python -m server serve``, embedded PostgreSQL) and Debian's Chromium, for the browser tests.

Run by ``make test-browser`` (which installs Chromium when it is missing). Screenshots go to
``artifacts/browser/`` (git-ignored); the path is printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.stripe.server import LocalStripe, StripeStandin, webhook_secret

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
PASSWORD = "correct horse battery"  # noqa: S105 - a test account
# The media server's callback secret, made per run: the live-room test starts a stream the way nginx-rtmp would.
HOOK_SECRET = secrets.token_urlsafe(24)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stripe:
    """The integration tests' Stripe stand-in (a real localstripe behind it), on an event loop of its own:
    the server under test calls it as ``STRIPE_API_BASE``; tests confirm payments and deliver webhooks."""

    def __init__(self) -> None:
        self.localstripe = LocalStripe()
        self.standin = StripeStandin(self.localstripe, webhook_secret())
        self.secret_key = "sk_test_" + secrets.token_hex(12)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stripe-standin", daemon=True)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def start(self) -> Stripe:
        self.localstripe.start()
        self.thread.start()
        self.run(self.standin.start())
        return self

    def stop(self) -> None:
        self.run(self.standin.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.localstripe.stop()

    def post(self, path: str, **params: Any) -> tuple[int, Any]:
        """A call to the stand-in as Stripe.js or the Dashboard would make it."""
        from tests.integration.payments.helpers import stripe_post

        return self.run(stripe_post(self.standin, path, **params))  # type: ignore[no-any-return]

    def deliver(self, base: str) -> list[int]:
        """Send the queued webhook events to the server, signed, as ``stripe listen`` would."""

        async def go() -> list[int]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                return await self.standin.deliver(client)

        return self.run(go())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def stripe() -> Iterator[Stripe]:
    s = Stripe().start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def server(stripe: Stripe) -> Iterator[str]:
    data_dir = Path(tempfile.mkdtemp(prefix="sf-browser-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port), LIVE_HOOK_SECRET=HOOK_SECRET)
    env.update(
        STRIPE_SECRET_KEY=stripe.secret_key,
        STRIPE_WEBHOOK_SECRET=stripe.standin.webhook_secret,
        STRIPE_API_BASE=stripe.standin.base,
    )
    log = data_dir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # initdb on a busy machine: generous, never asserted on
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server never became healthy:\n{log.read_text()[-4000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium is missing: run `make test-browser`, which installs Debian's package")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Debian's Chromium (playwright cannot download its own browsers here); --no-sandbox as root in CI.
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS
    print(f"\nbrowser test screenshots: {ARTIFACTS}")


def register(base: str, username: str) -> dict[str, str]:
    res = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert res.status_code == 201, res.text
    return res.json()  # type: ignore[no-any-return]


def login(base: str, username: str) -> dict[str, str]:
    """Bearer headers for ``username`` (set-up done over the API, not in the page under test)."""
    res = httpx.post(f"{base}/api/v1/auth/login", json={"login": username, "password": PASSWORD}, timeout=30)
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}
