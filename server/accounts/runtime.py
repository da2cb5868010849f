"""What the accounts side runs while the app serves: rate limiter, revocation listener, mail worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar

from server.accounts import revocation
from server.mail import Mailer
from server.ratelimit import RateLimiter
from server.settings import Settings


@asynccontextmanager
async def accounts_runtime(app: Litestar, settings: Settings, redis: Any | None) -> AsyncIterator[None]:
    """Put ``limiter`` and ``mailer`` in ``app.state`` and install this node's revocation cache."""
    app.state.limiter = RateLimiter(redis)
    revocations = revocation.Revocations(
        redis,
        access_ttl=settings.security.access_ttl_seconds,
        cache_seconds=settings.security.session_cache_seconds,
    )
    await revocations.start()
    revocation.install(revocations)
    mailer = app.state.mailer = Mailer(settings)
    await mailer.start()
    mailer.kick()  # mail queued while no node ran
    try:
        yield
    finally:
        await mailer.stop()
        await revocations.stop()
        revocation.uninstall(revocations)
