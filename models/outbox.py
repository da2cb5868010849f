"""The transactional outbox for realtime events."""

from piccolo.columns import JSONB, BigInt, BigSerial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxEvent(Table, tablename="outbox_events"):
    """An event written in the same transaction as the change that caused it; a relay publishes it."""

    id = BigSerial(primary_key=True)
    channel = Varchar(length=200)
    event = Varchar(length=64)
    data = JSONB()
    created_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None, index=True)
    actor = BigInt(
        null=True,
        default=None,
        help_text="the user whose action this is (a comment's author): hidden from users in a block relation",
    )
    traceparent = Varchar(
        length=55,
        null=True,
        default=None,
        help_text="W3C traceparent of the span that emitted it (tracing on): the relay's publish span continues it",
    )
    seq = BigInt(
        null=True,
        default=None,
        help_text="commit order: stamped at commit by a deferred trigger (see server.outbox), publish order",
    )
