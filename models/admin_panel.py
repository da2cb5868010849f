"""The piccolo-admin side of staff accounts: operators mirror Social Flow moderators and admins.

piccolo-admin authenticates against a ``BaseUser`` table and a sessions table. Operators have no
password of their own (sign-in checks the Social Flow account), and each panel session is tied to a
Social Flow session, so signing out everywhere, a suspension or a role change ends admin access too.
"""

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import BigInt, ForeignKey, OnDelete
from piccolo_api.session_auth.tables import SessionsBase

from models.accounts import AuthSession, User


class AdminOperator(BaseUser, tablename="admin_operators"):
    account = ForeignKey(User, null=False, unique=True, on_delete=OnDelete.cascade, help_text="the Social Flow user")


class AdminPanelSession(SessionsBase, tablename="admin_panel_sessions"):
    auth_session = ForeignKey(
        AuthSession, null=True, on_delete=OnDelete.cascade, help_text="the Social Flow session it rides on"
    )
    account = BigInt(null=True, default=None, help_text="the Social Flow user id")
