"""``python -m server create-admin``: make the first admin."""

from __future__ import annotations

import getpass
import os
import sys

from models.accounts import User
from server import db
from server.accounts.services import AccountService
from server.settings import Settings


async def create_admin(settings: Settings, username: str, email: str, password: str | None) -> int:
    password = password or os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Password for the admin: ")
    await db.start_pool(settings.database, max_size=2)
    try:
        user = await AccountService(settings).register(username, email, password, verified=True)
        await User.update({User.role: User.Role.admin.value}).where(User.id == user["id"])
    finally:
        await db.close_pool()
    print(f"admin {user['username']} created (id {user['id']})", file=sys.stderr)
    return 0
