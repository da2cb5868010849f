"""Enrolment as a creator or an advertiser: the rule, and its two endpoints.

A plain ``user`` who enrolls takes that role; a moderator or admin keeps theirs. One account may hold
both capabilities: ``capabilities`` lists them in enrolment order and ``role`` keeps the first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from models.accounts import User
from server import db
from server.accounts import audit
from server.accounts.audit import ClientInfo
from server.accounts.revocation import Revocations, effective_capabilities
from server.errors import NotFound

Capability = Literal["creator", "advertiser"]


async def enroll(revocations: Revocations, user_id: int, capability: Capability, client: ClientInfo) -> dict[str, Any]:
    """Add ``capability`` to the user (idempotent); a plain user's role becomes it. Applies to live sessions at once."""
    async with db.transaction():
        row = await User.select(*User.all_columns()).where(User.id == user_id).first().run()
        if row is None:
            raise NotFound("user not found")
        caps = list(effective_capabilities(row))
        if capability in caps and row["role"] != "user":
            return row
        caps = [*caps, capability] if capability not in caps else caps
        role = capability if row["role"] == "user" else row["role"]
        await User.update({User.capabilities: caps, User.role: role, User.updated_at: datetime.now(UTC)}).where(
            User.id == user_id
        )
        await audit.record("capability_enrolled", user_id=user_id, client=client, capability=capability, role=role)
    await revocations.users_changed([user_id])
    return {**row, "capabilities": caps, "role": role}
