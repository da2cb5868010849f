"""The admin's actions, as piccolo-admin forms: each one goes through the domain's service and is audited.

Tables in the panel are read-only (``tables.py``); every change is one of these forms, so the rules
(who may, what else must happen: sessions revoked, events sent) hold exactly as through the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, Field
from starlette.requests import Request

from models.accounts import User
from models.ads import AdCampaign
from models.social import Report
from server import db
from server.accounts import audit
from server.accounts.audit import ClientInfo
from server.admin import services as admin_services
from server.admin.panel.auth import staff_account
from server.deps import CurrentUser
from server.errors import DomainError
from server.live import hooks as live_hooks
from server.params import as_id
from server.social.queries import moderation as social_moderation
from server.social.services.moderation import ModerationService
from server.video.services import VideoService

Endpoint = Callable[[Request, Any], Awaitable[str]]


class UserAction(BaseModel):
    username: str = Field(description="The account's username")
    reason: str = Field(default="", max_length=500, description="Kept in the audit log")


class RoleAction(BaseModel):
    username: str = Field(description="The account's username")
    role: Literal["user", "creator", "advertiser", "moderator", "admin"]


class ObjectAction(BaseModel):
    id: str = Field(description="The object's id")
    reason: str = Field(default="", max_length=500, description="Kept in the audit log")


class CampaignAction(BaseModel):
    id: str = Field(description="The campaign's id")
    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=500, description="Shown to the advertiser when rejected")


class ReportAction(BaseModel):
    id: str = Field(description="The report's id")
    outcome: Literal["resolved", "dismissed"]


def _client(request: Request) -> ClientInfo:
    return ClientInfo(ip=request.client.host if request.client else "", user_agent="admin panel")


async def _actor(request: Request, *, admin: bool = False) -> CurrentUser:
    operator = request.user.user  # piccolo-admin's authenticated operator
    account = await staff_account(int(operator.id))
    if account is None:
        raise ValueError("your account is no longer staff")
    if admin and account["role"] != "admin":
        raise ValueError("only admins may do this")
    return CurrentUser(id=account["id"], session_id=0, role=account["role"])


async def _user_id(username: str) -> int:
    row = await User.select(User.id).where(User.username == username.strip().lower()).first()
    if row is None:
        raise ValueError(f"no user named {username!r}")
    return int(row["id"])


def _object_id(raw: str) -> int:
    value = as_id(raw.strip())
    if value is None:
        raise ValueError("not a valid id")
    return value


def _guarded(fn: Endpoint) -> Endpoint:
    """Domain errors become the form's error message (piccolo-admin shows a ``ValueError``)."""

    async def wrapped(request: Request, data: Any) -> str:
        try:
            return await fn(request, data)
        except DomainError as exc:
            raise ValueError(exc.detail) from exc

    return wrapped


def build(state: Callable[[], Any]) -> list[FormConfig]:
    """The forms; ``state`` gives the app's state (its social and ads runtimes, built at start-up)."""

    def social() -> Any:
        return state().social

    async def suspend(request: Request, data: UserAction) -> str:
        actor = await _actor(request, admin=True)
        await admin_services.suspend(
            state().revocations, actor, await _user_id(data.username), data.reason, _client(request)
        )
        return f"{data.username} is suspended; their sessions and sockets were closed."

    async def unsuspend(request: Request, data: UserAction) -> str:
        actor = await _actor(request, admin=True)
        await admin_services.unsuspend(actor, await _user_id(data.username), _client(request))
        return f"{data.username} may sign in again."

    async def set_role(request: Request, data: RoleAction) -> str:
        actor = await _actor(request, admin=True)
        await admin_services.set_role(
            state().revocations, actor, await _user_id(data.username), data.role, _client(request)
        )
        return f"{data.username} is now {data.role}."

    async def remove_post(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        await ModerationService(social()).remove_post(actor.id, actor.role, _object_id(data.id), data.reason)
        return f"Post {data.id} removed."

    async def restore_post(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        post_id = _object_id(data.id)
        async with db.transaction():
            author = await social_moderation.restore_removed_post(post_id)
            if author is None:
                raise ValueError("no post removed by a moderator has that id")
            await audit.record(
                "admin_change",
                user_id=author,
                actor_id=actor.id,
                client=_client(request),
                change="post_restored",
                post_id=str(post_id),
                reason=data.reason,
            )
        return f"Post {data.id} restored."

    async def remove_comment(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        comment_id = _object_id(data.id)
        async with db.transaction():
            row = await social_moderation.set_comment_removed(comment_id, True)
            if row is None:
                raise ValueError("no visible comment has that id")
            await audit.record(
                "admin_change",
                user_id=row["author"],
                actor_id=actor.id,
                client=_client(request),
                change="comment_removed",
                comment_id=str(comment_id),
                reason=data.reason,
            )
        await social().store.mark_dirty(row["post"])
        return f"Comment {data.id} removed."

    async def restore_comment(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        comment_id = _object_id(data.id)
        async with db.transaction():
            row = await social_moderation.set_comment_removed(comment_id, False)
            if row is None:
                raise ValueError("no removed comment has that id")
            await audit.record(
                "admin_change",
                user_id=row["author"],
                actor_id=actor.id,
                client=_client(request),
                change="comment_restored",
                comment_id=str(comment_id),
                reason=data.reason,
            )
        await social().store.mark_dirty(row["post"])
        return f"Comment {data.id} restored."

    async def close_report(request: Request, data: ReportAction) -> str:
        actor = await _actor(request)
        report_id = _object_id(data.id)
        async with db.transaction():
            closed = (
                await Report.update(
                    {Report.status: data.outcome, Report.resolved_at: datetime.now(UTC), Report.resolved_by: actor.id}
                )
                .where((Report.id == report_id) & (Report.status == "open"))
                .returning(Report.id)
            )
            if not closed:
                raise ValueError("no open report has that id")
            await audit.record(
                "admin_change",
                user_id=None,
                actor_id=actor.id,
                client=_client(request),
                change=f"report_{data.outcome}",
                report_id=str(report_id),
            )
        return f"Report {data.id} {data.outcome}."

    async def review_campaign(request: Request, data: CampaignAction) -> str:
        from server.ads.services import CampaignService

        actor = await _actor(request)
        campaign_id = _object_id(data.id)
        approve = data.decision == "approve"
        campaign = await CampaignService(state().ads).review(campaign_id, actor, approve=approve, note=data.reason)
        owner = await AdCampaign.select(AdCampaign.advertiser).where(AdCampaign.id == campaign_id).first()
        await audit.record(
            "admin_change",
            user_id=owner["advertiser"] if owner else None,
            actor_id=actor.id,
            client=_client(request),
            change=f"campaign_{data.decision}",
            campaign_id=str(campaign_id),
            reason=data.reason,
        )
        return f"Campaign {data.id} is {campaign.status}."

    async def remove_video(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        await VideoService(state().video).set_removed(actor, _object_id(data.id), True, data.reason)
        return f"Video {data.id} removed: only its owner and staff see it; its files are kept."

    async def restore_video(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        await VideoService(state().video).set_removed(actor, _object_id(data.id), False, data.reason)
        return f"Video {data.id} restored."

    async def end_stream(request: Request, data: ObjectAction) -> str:
        actor = await _actor(request)
        stream_id = _object_id(data.id)
        async with db.transaction():
            row = await live_hooks.end(stream_id, state().settings.live)
            if row is None:
                raise ValueError("no idle or live stream has that id")
            await audit.record(
                "admin_change",
                user_id=row["owner"],
                actor_id=actor.id,
                client=_client(request),
                change="live_ended",
                stream_id=str(stream_id),
                reason=data.reason,
            )
        if row["client_id"]:  # it was live: cut the publisher too (LIVE_CONTROL_URL), as a key rotation does
            await live_hooks.drop_publisher(state().settings.live, row["client_id"])
        return f"Stream {data.id} ended; its key is refused from now on."

    def form(name: str, model: type[BaseModel], endpoint: Endpoint, description: str, group: str) -> FormConfig:
        return FormConfig(
            name=name,
            pydantic_model=model,
            endpoint=_guarded(endpoint),  # type: ignore[arg-type]
            description=description,
            form_group=group,
        )

    return [
        form("Suspend user", UserAction, suspend, "Admins: no more sign-ins; every session and socket ends.", "Users"),
        form("Unsuspend user", UserAction, unsuspend, "Admins: lift a suspension.", "Users"),
        form("Change role", RoleAction, set_role, "Admins: applies to the user's live sessions at once.", "Users"),
        form(
            "Remove post", ObjectAction, remove_post, "Hide a post everywhere (timelines get post.deleted).", "Content"
        ),
        form("Restore post", ObjectAction, restore_post, "Bring back a post a moderator removed.", "Content"),
        form("Remove comment", ObjectAction, remove_comment, "Hide a comment.", "Content"),
        form("Restore comment", ObjectAction, restore_comment, "Bring back a removed comment.", "Content"),
        form(
            "Remove video",
            ObjectAction,
            remove_video,
            "Hide a video from everyone but its owner (reversible).",
            "Video",
        ),
        form("Restore video", ObjectAction, restore_video, "Bring back a video a moderator removed.", "Video"),
        form("End live stream", ObjectAction, end_stream, "End an idle or live stream for good.", "Video"),
        form("Close report", ReportAction, close_report, "Resolve or dismiss an open report.", "Moderation"),
        form("Review campaign", CampaignAction, review_campaign, "Approve or reject an ad campaign in review.", "Ads"),
    ]
