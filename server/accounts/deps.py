"""The accounts domain's providers for Litestar DI, and the request facts its services record."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.accounts.credentials import CredentialService
from server.accounts.services import AccountService, ClientInfo
from server.settings import Settings


def provide_accounts(settings: NamedDependency[Settings], state: State) -> AccountService:
    return AccountService(settings, state["limiter"], state["mailer"], state["revocations"], state["replicas"])


def client_info(request: Request[Any, Any, Any]) -> ClientInfo:
    ip = request.client.host if request.client else ""
    return ClientInfo(ip=ip, user_agent=request.headers.get("user-agent", "")[:400])


def provide_credentials(accounts: NamedDependency[AccountService]) -> CredentialService:
    return CredentialService(accounts)
