"""Auth: register, login (JSON and OAuth2 form), refresh, logout, me, 2FA."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from server.accounts.deps import client_info, provide_accounts
from server.accounts.schemas import (
    LoginRequest,
    Me,
    OAuth2PasswordForm,
    PasswordOTPRequest,
    PasswordRequest,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    TwoFactorSetup,
    UserPublic,
    me_view,
    user_public,
)
from server.accounts.services import AccountService, Issued
from server.deps import AuthUser
from server.errors import ValidationFailed
from server.openapi import problems


def _pair(issued: Issued) -> TokenPair:
    return TokenPair(access_token=issued.access_token, refresh_token=issued.refresh_token, expires_in=issued.expires_in)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    dependencies = {"accounts": Provide(provide_accounts, sync_to_thread=False)}

    @post("/register", status_code=201, summary="Create an account", responses=problems(409, 413, 422, 429))
    async def register(
        self, data: JSONBody[RegisterRequest], accounts: NamedDependency[AccountService], request: Request
    ) -> UserPublic:
        return user_public(await accounts.register(data.username, data.email, data.password, client_info(request)))

    @post(
        "/login",
        status_code=200,
        summary="Log in with username or email (and `otp` when 2FA is on)",
        responses=problems(401, 403, 422, 429),
    )
    async def login(
        self, data: JSONBody[LoginRequest], accounts: NamedDependency[AccountService], request: Request
    ) -> TokenPair:
        return _pair(await accounts.login(data.login, data.password, data.otp, client_info(request)))

    @post(
        "/token",
        status_code=200,
        summary="OAuth2 password grant (form-encoded), for the OpenAPI UI",
        responses=problems(401, 403, 422, 429),
    )
    async def token(
        self,
        data: Annotated[OAuth2PasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        accounts: NamedDependency[AccountService],
        request: Request,
    ) -> TokenPair:
        if data.grant_type != "password":
            raise ValidationFailed("grant_type must be 'password'")
        return _pair(await accounts.login(data.username, data.password, data.otp, client_info(request)))

    @post(
        "/refresh",
        status_code=200,
        summary="Rotate a refresh token into a new pair",
        responses=problems(401, 422),
    )
    async def refresh(
        self, data: JSONBody[RefreshRequest], accounts: NamedDependency[AccountService], request: Request
    ) -> TokenPair:
        return _pair(await accounts.refresh(data.refresh_token, client_info(request)))

    @post(
        "/logout",
        status_code=204,
        summary="End this session: its tokens stop working, its sockets close",
        responses=problems(401),
    )
    async def logout(self, current_user: AuthUser, accounts: NamedDependency[AccountService], request: Request) -> None:
        await accounts.logout(current_user.id, current_user.session_id, client_info(request))

    @get("/me", summary="The current user", responses=problems(401))
    async def me(self, current_user: AuthUser, accounts: NamedDependency[AccountService]) -> Me:
        return me_view(await accounts.get_user(current_user.id))

    @post(
        "/2fa/setup",
        status_code=200,
        summary="Start TOTP enrolment (needs the password)",
        responses=problems(401, 409, 422, 429),
    )
    async def twofa_setup(
        self,
        data: JSONBody[PasswordRequest],
        current_user: AuthUser,
        accounts: NamedDependency[AccountService],
        request: Request,
    ) -> TwoFactorSetup:
        secret, url = await accounts.twofa_setup(current_user.id, data.password, client_info(request))
        return TwoFactorSetup(secret=secret, otpauth_url=url)

    @post(
        "/2fa/enable",
        status_code=200,
        summary="Confirm TOTP (needs the password); returns 10 recovery codes",
        responses=problems(401, 409, 422, 429),
    )
    async def twofa_enable(
        self,
        data: JSONBody[PasswordOTPRequest],
        current_user: AuthUser,
        accounts: NamedDependency[AccountService],
        request: Request,
    ) -> RecoveryCodes:
        codes = await accounts.twofa_enable(current_user.id, data.password, data.otp, client_info(request))
        return RecoveryCodes(recovery_codes=codes)

    @post(
        "/2fa/disable",
        status_code=204,
        summary="Turn TOTP off (needs the password and a code)",
        responses=problems(401, 409, 422, 429),
    )
    async def twofa_disable(
        self,
        data: JSONBody[PasswordOTPRequest],
        current_user: AuthUser,
        accounts: NamedDependency[AccountService],
        request: Request,
    ) -> None:
        await accounts.twofa_disable(current_user.id, data.password, data.otp, client_info(request))

    @post(
        "/2fa/recovery-codes",
        status_code=200,
        summary="Replace the recovery codes (needs the password and a code)",
        responses=problems(401, 409, 422, 429),
    )
    async def regenerate_recovery_codes(
        self,
        data: JSONBody[PasswordOTPRequest],
        current_user: AuthUser,
        accounts: NamedDependency[AccountService],
        request: Request,
    ) -> RecoveryCodes:
        codes = await accounts.regenerate_recovery_codes(current_user.id, data.password, data.otp, client_info(request))
        return RecoveryCodes(recovery_codes=codes)
