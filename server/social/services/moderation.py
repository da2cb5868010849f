"""Reports by users, and the moderators' queue and removals (removals are audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.accounts import User
from models.ids import new_id
from models.social import Report
from server import cursor
from server.errors import Forbidden, NotFound, ValidationFailed
from server.guards import has_role
from server.params import body_id
from server.social import schemas
from server.social.runtime import SocialRuntime
from server.social.services.comments import CommentService
from server.social.services.graph import GraphService
from server.social.services.posts import PostService


class ModerationService:
    def __init__(self, runtime: SocialRuntime) -> None:
        self.rt = runtime

    async def report(self, viewer: int, data: schemas.ReportCreate) -> schemas.ReportView:
        target = body_id(data.target_id)
        if data.target_type == "post":
            await PostService(self.rt)._visible_row(viewer, target)
        elif data.target_type == "comment":
            await CommentService(self.rt)._row(viewer, target)
        else:
            row = await User.select(User.username).where(User.id == target).first()
            if row is None:
                raise NotFound("no such user")
            await GraphService(self.rt).user_row(row["username"], viewer)
            if target == viewer:
                raise ValidationFailed("you cannot report yourself")
        rows = await Report.insert(
            Report(
                id=new_id(),
                reporter=viewer,
                target_type=data.target_type,
                target_id=target,
                reason=data.reason.strip(),
                status="open",
                created_at=datetime.now(UTC),
            )
        ).returning(*Report.all_columns())
        return _view(rows[0])

    async def queue(self, role: str, limit: int, cur: str | None) -> schemas.ReportPage:
        if not has_role(role, "moderator"):
            raise Forbidden("moderators only")
        after = cursor.decode_id(self.rt.secret_key, "reports", cur)
        query = Report.select().where(Report.status == "open")
        if after is not None:
            query = query.where(Report.id < after)
        rows = await query.order_by(Report.id, ascending=False).limit(limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = cursor.encode(self.rt.secret_key, "reports", [str(rows[-1]["id"])]) if more and rows else None
        return schemas.ReportPage(items=[_view(r) for r in rows], next_cursor=nxt)

    async def remove_post(self, viewer: int, role: str, post_id: int, reason: str) -> None:
        if not has_role(role, "moderator"):
            raise Forbidden("moderators only")
        await PostService(self.rt).delete(viewer, role, post_id, reason=reason)
        await Report.update(
            {Report.status: "resolved", Report.resolved_at: datetime.now(UTC), Report.resolved_by: viewer}
        ).where((Report.target_type == "post") & (Report.target_id == post_id) & (Report.status == "open"))


def _view(row: dict[str, Any]) -> schemas.ReportView:
    return schemas.ReportView(
        id=str(row["id"]),
        target_type=row["target_type"],
        target_id=str(row["target_id"]),
        reason=row["reason"],
        status=row["status"],
        created_at=row["created_at"],
    )
