"""App-wide providers: the current user, settings and services, injected by Litestar DI."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server import security
from server.accounts.revocation import Revocations, SessionInfo
from server.errors import Unauthorized
from server.events import EventBus
from server.ratelimit import RateLimiter
from server.settings import SecuritySettings, Settings


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who is calling: from a verified access token whose session is still alive."""

    id: int
    session_id: int
    role: str
    capabilities: tuple[str, ...] = ()


# Handler parameters: ``current_user: AuthUser`` (401 without a valid token), ``maybe_user: MaybeUser``.
AuthUser = NamedDependency[CurrentUser]
MaybeUser = NamedDependency[CurrentUser | None]
RevocationsDep = NamedDependency[Revocations]
LimiterDep = NamedDependency[RateLimiter]


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class AccessTokens:
    """Verifies access tokens and their sessions; one per process, built by the composition root.

    A client sends the same access token for its whole lifetime, so each valid token is verified once per
    process, not per request (PyJWT's decode was ~6% of a home-feed read): token -> (exp, user id, session
    id). Only ``exp`` can change a verified token's answer, and it is checked on every use; revocation is
    the session check in ``authenticate``, never cached here.
    """

    MAX_REMEMBERED = 50_000

    def __init__(self, security_settings: SecuritySettings, revocations: Revocations) -> None:
        self.security = security_settings
        self.revocations = revocations
        self._verified: dict[str, tuple[float, int, int]] = {}

    def verify(self, token: str) -> tuple[int, int]:
        """``(user id, session id)`` of a valid access token (remembered until it expires); else ``Unauthorized``."""
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[0]:
            return hit[1], hit[2]
        sec = self.security
        try:
            claims = security.decode_access_token(
                token, key=sec.secret_key, issuer=sec.jwt_issuer, audience=sec.jwt_audience
            )
        except security.TokenError as exc:
            self._verified.pop(token, None)
            raise Unauthorized("invalid or expired access token") from exc
        if len(self._verified) >= self.MAX_REMEMBERED:
            self._verified.clear()
        user_id, session_id = int(claims["sub"]), int(claims["sid"])
        self._verified[token] = (float(claims["exp"]), user_id, session_id)
        return user_id, session_id

    async def authenticate(self, token: str) -> CurrentUser:
        """Verify an access token and its session; raise ``Unauthorized`` otherwise."""
        user_id, session_id = self.verify(token)
        return _current(user_id, session_id, await self.revocations.session_state(session_id))

    async def settle(self, user_id: int, session_id: int, flagged: bool | None) -> CurrentUser:
        """``authenticate`` for a token ``verify`` accepted, once the session's Redis check (pipelined by the
        caller with other reads, ``Revocations.key``) answered ``flagged``; raise ``Unauthorized`` otherwise."""
        if self.revocations.revoked_here(session_id):
            raise Unauthorized("this session was revoked")
        return _current(user_id, session_id, await self.revocations.settle(session_id, flagged))


def _current(user_id: int, session_id: int, state: SessionInfo | None) -> CurrentUser:
    if state is None or state.user_id != user_id:
        raise Unauthorized("this session was revoked")
    # The role comes from the session cache, not the token: a demotion applies at once.
    return CurrentUser(id=state.user_id, session_id=session_id, role=state.role, capabilities=state.capabilities)


_SCOPE_KEY = "sf_current_user"


async def user_from_connection(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    """The caller of ``connection`` (401 without a valid token), authenticated once per request."""
    cached = connection.scope.get("state", {}).get(_SCOPE_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    user = await access_tokens_of(connection).authenticate(required_token(connection))
    remember_user(connection, user)
    return user


def required_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The bearer token of ``connection``; ``Unauthorized`` without one."""
    token = bearer_token(connection)
    if token is None:
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    return token


def remember_user(connection: ASGIConnection[Any, Any, Any, Any], user: CurrentUser) -> None:
    """Record who ``connection`` authenticated as (``user_from_connection`` answers it; the access log reads it)."""
    connection.scope.setdefault("state", {})[_SCOPE_KEY] = user


def access_tokens_of(connection: ASGIConnection[Any, Any, Any, Any]) -> AccessTokens:
    """The process's ``AccessTokens``, for code that authenticates a request itself (the home feed)."""
    return connection.app.state["access_tokens"]  # type: ignore[no-any-return]


def signed_in_user_id(scope: Any) -> int | None:
    """The id of the user this request authenticated as, if it did (read after the handler ran)."""
    user = scope.get("state", {}).get(_SCOPE_KEY)
    return user.id if user is not None else None


def settings_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    """The app's settings, for route guards (which Litestar gives no DI)."""
    return connection.app.state["settings"]  # type: ignore[no-any-return]


def limiter_of(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimiter:
    """The app's rate limiter, for route guards (which Litestar gives no DI)."""
    return connection.app.state["limiter"]  # type: ignore[no-any-return]


def provide_event_bus(state: State) -> EventBus:
    """The process's domain-event bus (``server.events``), for handlers that dispatch outside a runtime."""
    return state["event_bus"]  # type: ignore[no-any-return]


def provide_settings(state: State) -> Settings:
    return state["settings"]  # type: ignore[no-any-return]


def provide_revocations(state: State) -> Revocations:
    return state["revocations"]  # type: ignore[no-any-return]


def provide_limiter(state: State) -> RateLimiter:
    return state["limiter"]  # type: ignore[no-any-return]


async def provide_current_user(request: Request) -> CurrentUser:
    return await user_from_connection(request)


async def provide_optional_user(request: Request) -> CurrentUser | None:
    if bearer_token(request) is None:
        return None
    return await user_from_connection(request)


dependencies = {
    "settings": Provide(provide_settings, sync_to_thread=False),
    "event_bus": Provide(provide_event_bus, sync_to_thread=False),
    "revocations": Provide(provide_revocations, sync_to_thread=False),
    "limiter": Provide(provide_limiter, sync_to_thread=False),
    "current_user": Provide(provide_current_user),
    "maybe_user": Provide(provide_optional_user),
}
