"""Self-service endpoints: the caller's sessions, password change, password reset, email verification."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from server.accounts.controllers import client_info, provide_accounts
from server.accounts.credentials import CredentialService
from server.accounts.schemas import EmailRequest, PasswordChange, PasswordReset, Session, SessionPage, TokenRequest
from server.accounts.services import AccountService
from server.accounts.sessions import list_sessions
from server.deps import AuthUser
from server.errors import NotFound
from server.openapi import problems
from server.pagination import Cursor, Limit


def provide_credentials(accounts: NamedDependency[AccountService]) -> CredentialService:
    return CredentialService(accounts)


def _session_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) >= 1 << 63:
        raise NotFound("no such session")
    return int(raw)


class SessionController(Controller):
    path = "/auth/sessions"
    tags = ["auth"]
    dependencies = {"accounts": Provide(provide_accounts, sync_to_thread=False)}

    @get("/", summary="The caller's signed-in sessions (the current one marked)", responses=problems(401, 422))
    async def list_sessions(self, current_user: AuthUser, limit: Limit = 20, cursor: Cursor = None) -> SessionPage:
        rows, next_cursor = await list_sessions(current_user.id, limit=limit, cursor=cursor)
        items = [
            Session(
                id=str(r["id"]),
                current=r["id"] == current_user.session_id,
                ip=r["ip"],
                user_agent=r["user_agent"],
                created_at=r["created_at"],
                last_used_at=r["last_used_at"],
                expires_at=r["expires_at"],
            )
            for r in rows
        ]
        return SessionPage(items=items, next_cursor=next_cursor)

    @delete(
        "/{session_id:str}",
        status_code=204,
        summary="Sign one of the caller's sessions out (its sockets close with 4009)",
        responses=problems(401, 404),
    )
    async def revoke(
        self,
        session_id: Annotated[str, Parameter(description="A session id from the list")],
        current_user: AuthUser,
        accounts: NamedDependency[AccountService],
        request: Request,
    ) -> None:
        await accounts.revoke_own_session(current_user.id, _session_id(session_id), client_info(request))


class CredentialController(Controller):
    path = "/auth"
    tags = ["auth"]
    dependencies = {
        "accounts": Provide(provide_accounts, sync_to_thread=False),
        "credentials": Provide(provide_credentials, sync_to_thread=False),
    }

    @post(
        "/password",
        status_code=204,
        summary="Change the password (needs the current one); other sessions are signed out",
        responses=problems(401, 422, 429),
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        current_user: AuthUser,
        credentials: NamedDependency[CredentialService],
        request: Request,
    ) -> None:
        await credentials.change_password(
            current_user.id, current_user.session_id, data.current_password, data.new_password, client_info(request)
        )

    @post(
        "/password-reset/request",
        status_code=202,
        summary="Mail a reset token if the address has an account (the answer is the same either way)",
        responses=problems(422, 429),
    )
    async def request_reset(
        self, data: JSONBody[EmailRequest], credentials: NamedDependency[CredentialService], request: Request
    ) -> None:
        await credentials.request_password_reset(data.email, client_info(request))

    @post(
        "/password-reset",
        status_code=204,
        summary="Set a new password with a mailed token; every session is signed out",
        responses=problems(422, 429),
    )
    async def reset(
        self, data: JSONBody[PasswordReset], credentials: NamedDependency[CredentialService], request: Request
    ) -> None:
        await credentials.reset_password(data.token, data.new_password, client_info(request))

    @post(
        "/verify-email/request",
        status_code=202,
        summary="Mail a new email-verification token",
        responses=problems(401, 409, 429),
    )
    async def request_verification(
        self, current_user: AuthUser, credentials: NamedDependency[CredentialService], request: Request
    ) -> None:
        await credentials.request_verification(current_user.id, client_info(request))

    @post(
        "/verify-email",
        status_code=204,
        summary="Confirm the email address with a mailed token",
        responses=problems(422, 429),
    )
    async def verify(
        self, data: JSONBody[TokenRequest], credentials: NamedDependency[CredentialService], request: Request
    ) -> None:
        await credentials.verify_email(data.token, client_info(request))
