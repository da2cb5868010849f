"""App-wide providers: the current user, settings and services, injected by Litestar DI."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server import security
from server.accounts.revocation import is_session_active
from server.errors import Unauthorized
from server.settings import Settings


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who is calling: from a verified access token whose session is still alive."""

    id: int
    session_id: int
    role: str


# Handler parameters: ``current_user: AuthUser`` (401 without a valid token), ``maybe_user: MaybeUser``.
AuthUser = NamedDependency[CurrentUser]
MaybeUser = NamedDependency[CurrentUser | None]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate_token(token: str, settings: Settings) -> CurrentUser:
    """Verify an access token and its session; raise ``Unauthorized`` otherwise."""
    sec = settings.security
    try:
        claims = security.decode_access_token(
            token, key=sec.secret_key, issuer=sec.jwt_issuer, audience=sec.jwt_audience
        )
    except security.TokenError as exc:
        raise Unauthorized("invalid or expired access token") from exc
    user = CurrentUser(id=int(claims["sub"]), session_id=int(claims["sid"]), role=str(claims.get("role", "user")))
    if not await is_session_active(user.session_id):
        raise Unauthorized("this session was revoked")
    return user


def provide_settings(state: State) -> Settings:
    return state["settings"]  # type: ignore[no-any-return]


async def provide_current_user(request: Request, state: State) -> CurrentUser:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    return await authenticate_token(token, state["settings"])


async def provide_optional_user(request: Request, state: State) -> CurrentUser | None:
    token = bearer_token(request)
    if token is None:
        return None
    return await authenticate_token(token, state["settings"])


dependencies = {
    "settings": Provide(provide_settings, sync_to_thread=False),
    "current_user": Provide(provide_current_user),
    "maybe_user": Provide(provide_optional_user),
}
