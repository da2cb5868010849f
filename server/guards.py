"""Guards: tiny functions that let a request through or raise ``Unauthorized`` / ``Forbidden``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.deps import CurrentUser, user_from_connection
from server.errors import Forbidden

ROLES = ("user", "creator", "advertiser", "moderator", "admin")
CAPABILITIES = ("creator", "advertiser")
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def has_role(who: CurrentUser | str, *roles: str) -> bool:
    """Whether ``who`` (a user, or a user's role) holds one of ``roles``; admins hold every role.

    The one role check, for guards and services alike: ``has_role(user, "moderator")`` is "staff"
    (moderators and admins). Services that hold only a row pass its role: ``has_role(row["role"], ...)``.
    """
    role = who if isinstance(who, str) else who.role
    return role in roles or role == "admin"


def requires_role(*roles: str) -> Guard:
    """A guard admitting callers with one of ``roles`` (or admin); 401 without a token, 403 otherwise."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = await user_from_connection(connection)
        if not has_role(user, *roles):
            raise Forbidden(f"this needs the {' or '.join(roles)} role")

    guard.__name__ = f"requires_role_{'_'.join(roles)}"
    return guard


def has_capability(user: CurrentUser, capability: str) -> bool:
    """For services: whether ``user`` enrolled as ``capability`` (admins hold every capability)."""
    return capability in user.capabilities or user.role == "admin"


def requires_capability(capability: str) -> Guard:
    """A guard admitting callers enrolled as ``capability`` (or admin); 401 without a token, 403 otherwise."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability: {capability}")

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = await user_from_connection(connection)
        if not has_capability(user, capability):
            raise Forbidden(f"this needs the {capability} capability: enroll at /api/v1/{capability}s/enroll")

    guard.__name__ = f"requires_capability_{capability}"
    return guard


requires_admin = requires_role("admin")
requires_moderator = requires_role("moderator")
requires_creator = requires_capability("creator")
requires_advertiser = requires_capability("advertiser")
