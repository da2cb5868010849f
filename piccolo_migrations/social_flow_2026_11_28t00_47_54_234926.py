from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-28T00:47:54:234926"
VERSION = "1.38.0"
DESCRIPTION = "notification indexes and the procrastinate job queue schema"

# One notification per (recipient, type, actor, subject): like, unlike, like again stays one row, and
# two concurrent inserts of the same like cannot both win.
NOTIFICATION_INDEXES = """
CREATE UNIQUE INDEX notifications_once_idx
    ON notifications (recipient, type, coalesce(actor, 0), subject_type, subject_id);
CREATE INDEX notifications_recipient_id_idx ON notifications (recipient, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (recipient) WHERE read_at IS NULL;
CREATE INDEX notifications_group_idx ON notifications (recipient, group_key, id DESC);
CREATE UNIQUE INDEX author_subscriptions_pair_idx ON author_subscriptions ("user", author);
"""


async def _execute(sql: str) -> None:
    # Multi-statement SQL needs asyncpg's simple query protocol (``execute`` without arguments),
    # on the migration's own transaction connection when there is one.
    import asyncpg
    from piccolo.engine import engine_finder

    engine = engine_finder()
    txn = engine.current_transaction.get() if engine else None
    if txn is not None:
        await txn.connection.execute(sql)
        return
    conn = await asyncpg.connect(engine.config["dsn"])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="social_flow", description=DESCRIPTION)

    async def run():
        from procrastinate.schema import SchemaManager

        await _execute(NOTIFICATION_INDEXES)
        # The job queue's tables and functions, as the installed procrastinate version ships them.
        await _execute(SchemaManager.get_schema())

    manager.add_raw(run)
    return manager
