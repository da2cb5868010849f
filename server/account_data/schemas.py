"""Wire types of account exports and deletions."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ExportView(msgspec.Struct):
    """An export: ``status`` pending → running → ready (or failed); ``download_url`` once ready, for 24 h at most
    (a link for the caller's session, void once it signs out or the password changes)."""

    id: str
    status: str
    progress: int
    created_at: datetime
    finished_at: datetime | None = None
    expires_at: datetime | None = None
    size_bytes: int = 0
    download_url: str | None = None


class DeletionRequest(msgspec.Struct, forbid_unknown_fields=True):
    password: str = msgspec.field()


class DeletionView(msgspec.Struct):
    """A scheduled deletion: the account is suspended now and purged at ``purge_after`` (logging in cancels)."""

    status: str
    requested_at: datetime
    purge_after: datetime
