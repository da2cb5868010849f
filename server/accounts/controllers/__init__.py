"""The accounts domain's controllers, one module per resource, for ``server.app`` to wire."""

from server.accounts.controllers.auth import AuthController
from server.accounts.controllers.credentials import CredentialController
from server.accounts.controllers.enrollment import EnrollmentController
from server.accounts.controllers.sessions import SessionController

CONTROLLERS = [AuthController, EnrollmentController, SessionController, CredentialController]

__all__ = ["CONTROLLERS", "AuthController", "CredentialController", "EnrollmentController", "SessionController"]
