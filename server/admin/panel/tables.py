"""What the panel shows: read-only tables (changes go through the audited forms in ``forms.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from piccolo.table import Table
from piccolo_admin.endpoints import OrderBy, TableConfig
from piccolo_api.crud.validators import Validators

from models.accounts import AuditEvent, AuthSession, User
from models.ads import AdCampaign, AdDailyStat, AdSpendBatch
from models.live import LiveChatMessage, LiveStream
from models.payments import (
    FanSubscription,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Payout,
    PayoutAccount,
    Refund,
    StripeCustomer,
    StripeEvent,
    Tier,
)
from models.social import Comment, Post, Report
from models.video import Video


def _read_only(*_: Any, **__: Any) -> None:
    raise HTTPException(status_code=405, detail="Read-only here: use the forms, which apply the rules and audit.")


def read_only() -> Validators:
    return Validators(
        post_single=[_read_only],
        put_single=[_read_only],
        patch_single=[_read_only],
        delete_single=[_read_only],
        delete_all=[_read_only],
    )


def _config(table: type[Table], group: str, columns: list[Any] | None = None, newest: bool = True) -> TableConfig:
    return TableConfig(
        table,
        visible_columns=columns,
        validators=read_only(),
        menu_group=group,
        order_by=[OrderBy(table._meta.primary_key, ascending=False)] if newest else None,
    )


def build() -> list[TableConfig]:
    """Each domain's tables, as they exist on main (video, payments, ads join here as they land)."""
    return [
        _config(
            User,
            "Users",
            [User.id, User.username, User.email, User.role, User.suspended_at, User.totp_enabled, User.created_at],
        ),
        _config(
            AuthSession,
            "Users",
            [
                AuthSession.id,
                AuthSession.user,
                AuthSession.user_agent,
                AuthSession.ip,
                AuthSession.created_at,
                AuthSession.revoked_at,
                AuthSession.revoked_reason,
            ],
        ),
        _config(
            Post,
            "Content",
            [Post.id, Post.author, Post.text, Post.visibility, Post.created_at, Post.deleted_at, Post.removed_by],
        ),
        _config(Comment, "Content", [Comment.id, Comment.post, Comment.author, Comment.text, Comment.deleted_at]),
        _config(
            Video,
            "Video",
            [
                Video.id,
                Video.owner,
                Video.title,
                Video.visibility,
                Video.status,
                Video.moderation,
                Video.duration,
                Video.view_count,
                Video.created_at,
                Video.deleted_at,
            ],
        ),
        _config(
            LiveStream,
            "Video",
            [
                LiveStream.id,
                LiveStream.owner,
                LiveStream.title,
                LiveStream.visibility,
                LiveStream.status,
                LiveStream.current_viewers,
                LiveStream.peak_viewers,
                LiveStream.started_at,
                LiveStream.ended_at,
            ],
        ),
        _config(
            LiveChatMessage,
            "Video",
            [
                LiveChatMessage.id,
                LiveChatMessage.stream,
                LiveChatMessage.author,
                LiveChatMessage.kind,
                LiveChatMessage.text,
                LiveChatMessage.created_at,
                LiveChatMessage.deleted_at,
            ],
        ),
        _config(
            Report,
            "Moderation",
            [
                Report.id,
                Report.status,
                Report.target_type,
                Report.target_id,
                Report.reason,
                Report.reporter,
                Report.created_at,
                Report.resolved_by,
            ],
        ),
        _config(AuditEvent, "Moderation"),
        _config(AdCampaign, "Ads"),
        _config(AdDailyStat, "Ads"),
        _config(AdSpendBatch, "Ads"),
        # Payments: read-only; money moves only through Stripe and the ledger's own rules.
        *(
            _config(table, "Payments", newest=table._meta.primary_key._meta.name == "id")
            for table in (
                Payment,
                Refund,
                Tier,
                FanSubscription,
                Payout,
                PayoutAccount,
                StripeCustomer,
                StripeEvent,
                LedgerTransaction,
                LedgerEntry,
            )
        ),
    ]
