"""Reports by users, and the moderators' queue and removals (removals are audited)."""

from __future__ import annotations

from models.ids import new_id
from server import cursor, sql
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
            row = await sql.fetchrow("SELECT username FROM users WHERE id = $1", target)
            if row is None:
                raise NotFound("no such user")
            await GraphService(self.rt).user_row(row["username"], viewer)
            if target == viewer:
                raise ValidationFailed("you cannot report yourself")
        row = await sql.fetchrow(
            "INSERT INTO reports (id, reporter, target_type, target_id, reason, status, created_at) "
            "VALUES ($1, $2, $3, $4, $5, 'open', now()) RETURNING *",
            new_id(),
            viewer,
            data.target_type,
            target,
            data.reason.strip(),
        )
        return _view(row)

    async def queue(self, role: str, limit: int, cur: str | None) -> schemas.ReportPage:
        if not has_role(role, "moderator"):
            raise Forbidden("moderators only")
        after = cursor.decode(self.rt.secret_key, "reports", cur)
        rows = await sql.fetch(
            "SELECT * FROM reports WHERE status = 'open' AND ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            int(after[0]) if after else None,
            limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = cursor.encode(self.rt.secret_key, "reports", [str(rows[-1]["id"])]) if more and rows else None
        return schemas.ReportPage(items=[_view(r) for r in rows], next_cursor=nxt)

    async def remove_post(self, viewer: int, role: str, post_id: int, reason: str) -> None:
        if not has_role(role, "moderator"):
            raise Forbidden("moderators only")
        await PostService(self.rt).delete(viewer, role, post_id, reason=reason)
        await sql.execute(
            "UPDATE reports SET status = 'resolved', resolved_at = now(), resolved_by = $2 "
            "WHERE target_type = 'post' AND target_id = $1 AND status = 'open'",
            post_id,
            viewer,
        )


def _view(r: object) -> schemas.ReportView:
    row = r  # asyncpg.Record
    return schemas.ReportView(
        id=str(row["id"]),  # type: ignore[index]
        target_type=row["target_type"],  # type: ignore[index]
        target_id=str(row["target_id"]),  # type: ignore[index]
        reason=row["reason"],  # type: ignore[index]
        status=row["status"],  # type: ignore[index]
        created_at=row["created_at"],  # type: ignore[index]
    )
