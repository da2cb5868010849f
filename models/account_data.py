"""Account data: exports a user asked for, and deletions waiting out their grace period."""

from enum import Enum

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.accounts import User
from models.ids import new_id


class DataExport(Table, tablename="data_exports"):
    """A zip of one user's data (JSON plus their media), built by a job, downloadable for 24 h."""

    class Status(str, Enum):
        pending = "pending"
        running = "running"
        ready = "ready"
        failed = "failed"

    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=16, choices=Status, default=Status.pending.value)
    progress = Integer(default=0, help_text="percent done")
    file_name = Varchar(length=200, null=True, default=None, help_text="under DATA_DIR/exports")
    size_bytes = BigInt(default=0)
    error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None, help_text="when the download link and the file go")


class AccountDeletion(Table, tablename="account_deletions"):
    """A deletion the user asked for: suspended now, purged at ``purge_after`` unless they log in first."""

    user = ForeignKey(User, primary_key=True, null=False, on_delete=OnDelete.cascade)
    requested_at = Timestamptz(default=TimestamptzNow())
    purge_after = Timestamptz()
