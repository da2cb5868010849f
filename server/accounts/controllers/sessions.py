"""The caller's signed-in sessions: list, revoke one."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter

from server.accounts.deps import client_info, provide_accounts
from server.accounts.schemas import Session, SessionPage
from server.accounts.services import AccountService
from server.accounts.sessions import list_sessions
from server.deps import AuthUser
from server.openapi import problems
from server.params import Cursor, Limit, parse_id
from server.settings import Settings


class SessionController(Controller):
    path = "/auth/sessions"
    tags = ["auth"]
    dependencies = {"accounts": Provide(provide_accounts, sync_to_thread=False)}

    @get("/", summary="The caller's signed-in sessions (the current one marked)", responses=problems(401, 422))
    async def list_sessions(
        self, current_user: AuthUser, settings: NamedDependency[Settings], limit: Limit = 20, cursor: Cursor = None
    ) -> SessionPage:
        rows, next_cursor = await list_sessions(
            current_user.id, key=settings.security.secret_key, limit=limit, cursor=cursor
        )
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
        await accounts.revoke_own_session(
            current_user.id, parse_id(session_id, "no such session"), client_info(request)
        )
