"""Credentials self-service: password change, password reset, email verification."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from server.accounts.credentials import CredentialService
from server.accounts.deps import client_info, provide_accounts, provide_credentials
from server.accounts.schemas import EmailRequest, PasswordChange, PasswordReset, TokenRequest
from server.deps import AuthUser
from server.openapi import problems


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
