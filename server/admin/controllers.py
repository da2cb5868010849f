"""Admin endpoints: roles, suspension, the audit log. Admins only (403 ``forbidden`` otherwise)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from server.accounts import audit
from server.accounts.deps import client_info
from server.admin import services
from server.admin.schemas import AdminUser, AuditEntry, AuditPage, RoleChange, Suspension
from server.deps import AuthUser, RevocationsDep
from server.errors import ValidationFailed
from server.guards import requires_admin
from server.openapi import problems
from server.params import Cursor, Limit, as_id, parse_id
from server.settings import Settings
from server.social.runtime import SocialRuntime

UserId = Annotated[str, Parameter(description="The user's id")]


def admin_user(row: dict[str, Any]) -> AdminUser:
    return AdminUser(
        id=str(row["id"]),
        username=row["username"],
        email=row["email"],
        email_verified=row["email_verified_at"] is not None,
        role=row["role"],
        suspended=row["suspended_at"] is not None,
        suspended_at=row["suspended_at"],
        two_factor_enabled=row["totp_enabled"],
        created_at=row["created_at"],
    )


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]
    guards = [requires_admin]

    @get("/users/{user_id:str}", summary="A user, as admins see them", responses=problems(401, 403, 404))
    async def get_user(self, user_id: UserId) -> AdminUser:
        return admin_user(await services.get_user(parse_id(user_id, "user not found")))

    @put(
        "/users/{user_id:str}/role",
        summary="Change a user's role (applies to their live sessions at once)",
        responses=problems(401, 403, 404, 409, 422),
    )
    async def set_role(
        self,
        user_id: UserId,
        data: JSONBody[RoleChange],
        current_user: AuthUser,
        request: Request,
        revocations: RevocationsDep,
    ) -> AdminUser:
        target = parse_id(user_id, "user not found")
        return admin_user(await services.set_role(revocations, current_user, target, data.role, client_info(request)))

    @post(
        "/users/{user_id:str}/suspend",
        status_code=200,
        summary="Suspend a user: no logins, every session revoked now",
        responses=problems(401, 403, 404, 409, 422),
    )
    async def suspend(
        self,
        user_id: UserId,
        current_user: AuthUser,
        request: Request,
        revocations: RevocationsDep,
        social: NamedDependency[SocialRuntime],
        data: JSONBody[Suspension | None] = None,
    ) -> AdminUser:
        reason = data.reason if data else ""
        target = parse_id(user_id, "user not found")
        user = await services.suspend(revocations, current_user, target, reason, client_info(request))
        # Their videos, images and streams stop opening at once on this node (other nodes: the re-check event).
        social.access_changes.note_all()
        return admin_user(user)

    @post(
        "/users/{user_id:str}/unsuspend",
        status_code=200,
        summary="Lift a suspension",
        responses=problems(401, 403, 404),
    )
    async def unsuspend(self, user_id: UserId, current_user: AuthUser, request: Request) -> AdminUser:
        return admin_user(
            await services.unsuspend(current_user, parse_id(user_id, "user not found"), client_info(request))
        )

    @get("/audit", summary="The security audit log, newest first", responses=problems(401, 403, 422))
    async def audit_log(
        self,
        settings: NamedDependency[Settings],
        limit: Limit = 20,
        cursor: Cursor = None,
        user_id: Annotated[str | None, Parameter(description="Only events about this user")] = None,
        action: Annotated[str | None, Parameter(description="Only this action")] = None,
    ) -> AuditPage:
        if action is not None and action not in audit.ACTIONS:
            raise ValidationFailed(f"action must be one of {sorted(audit.ACTIONS)}")
        subject = as_id(user_id) if user_id is not None else None
        if user_id is not None and subject is None:
            raise ValidationFailed("user_id must be a user id")
        rows, next_cursor = await audit.list_events(
            key=settings.security.secret_key, limit=limit, cursor=cursor, user_id=subject, action=action
        )
        return AuditPage(
            items=[
                AuditEntry(
                    id=str(r["id"]),
                    action=r["action"],
                    user_id=str(r["user"]) if r["user"] is not None else None,
                    actor_id=str(r["actor"]) if r["actor"] is not None else None,
                    ip=r["ip"],
                    user_agent=r["user_agent"],
                    details=r["details"] if isinstance(r["details"], dict) else {},
                    created_at=r["created_at"],
                )
                for r in rows
            ],
            next_cursor=next_cursor,
        )
