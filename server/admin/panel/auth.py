"""The bridge between piccolo-admin's auth and Social Flow accounts: password, roles, 2FA and sessions.

- Sign-in checks the Social Flow password (argon2) and admits only moderators and admins who are not
  suspended; the operator row piccolo-admin needs is made or refreshed from the account then.
- 2FA: an ``MFAProvider`` asks for the account's TOTP (or a recovery code) when the account has 2FA on.
- Sessions: each panel session opens a Social Flow session (listed with the user's sessions), and every
  request re-checks it: revoked (logout everywhere, password change, suspension, deletion), a role no
  longer staff, or a suspended account ends admin access at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo_api.mfa.provider import MFAProvider

from models.accounts import AuthSession, User
from models.admin_panel import AdminOperator, AdminPanelSession
from server import security
from server.accounts import audit, passwords, sessions, twofactor
from server.errors import InvalidOTP
from server.guards import has_role
from server.settings import PasswordHashing, Settings

USER_AGENT = "Social Flow admin panel"


async def _account(login: str) -> dict[str, Any] | None:
    login = login.strip().lower()
    column = User.email_normalized if "@" in login else User.username
    return await User.select(*User.all_columns()).where(column == login).first()


class PanelOperator(AdminOperator, tablename="admin_operators"):
    """``AdminOperator`` with sign-in against the Social Flow account."""

    @classmethod
    async def login(cls, username: str, password: str) -> int | None:
        user = await _account(username)
        # Unknown login: a dummy hash at the default cost (as before), made once per process on first use.
        stored = user["password_hash"] if user else security.dummy_password_hash(PasswordHashing())
        ok = await passwords.verify_password(stored, password)
        if user is None or not ok:
            await audit.record("login_failed", user_id=user["id"] if user else None, reason="password", via="admin")
            return None
        if not has_role(user["role"], "moderator") or user["suspended_at"] is not None:
            await audit.record("login_failed", user_id=user["id"], reason="not_staff", via="admin")
            return None
        return await sync_operator(user)

    @classmethod
    async def update_password(cls, user: str | int, password: str) -> None:
        raise ValueError("change the password in Social Flow (POST /api/v1/auth/password)")


async def sync_operator(user: dict[str, Any]) -> int:
    """Make or refresh the operator row of a staff account; return its id."""
    values = {
        "username": user["username"],
        "email": user["email"],
        "admin": True,
        "superuser": user["role"] == "admin",
        "active": True,
    }
    row = await AdminOperator.select(AdminOperator.id).where(AdminOperator.account == user["id"]).first()
    if row is not None:
        await AdminOperator.update(values).where(AdminOperator.id == row["id"])  # type: ignore[arg-type]
        return int(row["id"])
    # No usable password: the mirror is never checked (login above is), and piccolo's hash of a random
    # string keeps it that way even if someone called BaseUser.login on this table.
    operator = AdminOperator(account=user["id"], password=security.new_opaque_token(), **values)
    await operator.save()
    return int(operator.id)


async def staff_account(operator_id: int) -> dict[str, Any] | None:
    """The Social Flow account behind an operator, if it is still staff and not suspended."""
    operator = await AdminOperator.select(AdminOperator.account).where(AdminOperator.id == operator_id).first()
    user = None if operator is None else await User.select().where(User.id == operator["account"]).first()
    if user is None or not has_role(user["role"], "moderator") or user["suspended_at"] is not None:
        return None
    return user


class PanelSession(AdminPanelSession, tablename="admin_panel_sessions"):
    """``AdminPanelSession`` tied to a Social Flow session and re-checked on every request."""

    @classmethod
    async def create_session(
        cls, user_id: int, expiry_date: datetime | None = None, max_expiry_date: datetime | None = None
    ) -> Any:
        account = await staff_account(user_id)
        assert account is not None  # login() admitted them a moment ago
        expires = max_expiry_date or datetime.now(UTC)
        rows = await AuthSession.insert(
            AuthSession(user=account["id"], user_agent=USER_AGENT, expires_at=expires.astimezone(UTC))
        ).returning(AuthSession.id)
        session = await super().create_session(user_id, expiry_date, max_expiry_date)
        await cls.update({cls.auth_session: rows[0]["id"], cls.account: account["id"]}).where(cls.id == session.id)
        await audit.record("login", user_id=account["id"], session_id=str(rows[0]["id"]), via="admin")
        return session

    @classmethod
    async def get_user_id(cls, token: str, increase_expiry: Any = None) -> int | None:
        operator_id = await super().get_user_id(token, increase_expiry)
        if operator_id is None:
            return None
        row = await cls.select(cls.auth_session).where(cls.token == token).first()
        live = False
        if row is not None and row["auth_session"] is not None:
            live = await AuthSession.exists().where(
                (AuthSession.id == row["auth_session"]) & AuthSession.revoked_at.is_null()
            )
        if not live or await staff_account(operator_id) is None:
            await cls.delete().where(cls.token == token)
            return None
        return operator_id

    @classmethod
    async def remove_session(cls, token: str) -> None:
        row = await cls.select(cls.auth_session, cls.account).where(cls.token == token).first()
        await super().remove_session(token)
        if row is not None and row["auth_session"] is not None:
            # Only marked in the database: a panel session never had an access token or a socket to stop,
            # and the panel re-reads ``revoked_at`` on every request (``get_user_id``).
            await sessions.mark_revoked(AuthSession.id == row["auth_session"], "logout")
            await audit.record("logout", user_id=row["account"], session_id=str(row["auth_session"]), via="admin")


class AccountTOTP(MFAProvider):
    """The account's own TOTP (or a recovery code), asked for when the account has 2FA on."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="Authenticator code")
        self.settings = settings

    async def _user(self, operator: BaseUser) -> dict[str, Any] | None:
        account = getattr(operator, "account", None)
        return await User.select(*User.all_columns()).where(User.id == account).first()

    async def is_user_enrolled(self, user: BaseUser) -> bool:
        row = await self._user(user)
        return bool(row and row["totp_enabled"])

    async def authenticate_user(self, user: BaseUser, code: str) -> bool:
        row = await self._user(user)
        if row is None:
            return False
        try:
            await twofactor.verify_login_otp(self.settings, row, code)
        except InvalidOTP:
            await audit.record("login_failed", user_id=row["id"], reason="otp", via="admin")
            return False
        return True

    async def send_code(self, user: BaseUser) -> bool:
        return False  # an authenticator app, nothing to send

    async def get_registration_html(self, user: BaseUser) -> str:
        return "<p>Two-factor authentication is managed in Social Flow: POST /api/v1/auth/2fa/setup.</p>"

    async def get_registration_json(self, user: BaseUser) -> dict[str, Any]:
        return {"message": "Two-factor authentication is managed in Social Flow (/api/v1/auth/2fa/setup)."}

    async def delete_registration(self, user: BaseUser) -> None:
        return None  # disabling 2FA needs the password and a code, in Social Flow itself


def now() -> datetime:
    return datetime.now(UTC)
