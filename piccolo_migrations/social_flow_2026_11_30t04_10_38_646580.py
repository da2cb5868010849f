from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T04:10:38:646580"
VERSION = "1.38.0"
DESCRIPTION = "outbox: stamp commit order at commit (deferred trigger, striped locks) instead of one global lock"

# A deferred constraint trigger runs at COMMIT: it takes the advisory locks of the stripes of the channels
# this transaction wrote (one sorted statement, so two committers never deadlock) and stamps its rows with
# the next values of a sequence. Per stripe, and so per channel, ``seq`` order is commit order; the lock is
# held only for the commit itself, never while the transaction does its work. See server/outbox.py.
SQL = [
    "CREATE SEQUENCE IF NOT EXISTS outbox_commit_seq",
    "SELECT setval('outbox_commit_seq', GREATEST((SELECT max(id) FROM outbox_events), 1))",
    "UPDATE outbox_events SET seq = id WHERE seq IS NULL",
    "CREATE INDEX IF NOT EXISTS outbox_events_unstamped ON outbox_events (id) WHERE seq IS NULL",
    "CREATE INDEX IF NOT EXISTS outbox_events_unpublished_seq ON outbox_events (seq) WHERE published_at IS NULL",
    """CREATE OR REPLACE FUNCTION outbox_stamp_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM outbox_events WHERE seq IS NULL) THEN
    RETURN NULL;  -- this transaction's rows are stamped already (the first row's trigger did all)
  END IF;
  PERFORM pg_advisory_xact_lock(24337, s)
    FROM (SELECT DISTINCT hashtext(channel) & 63 AS s FROM outbox_events WHERE seq IS NULL ORDER BY 1) AS stripes;
  UPDATE outbox_events o SET seq = t.seq
    FROM (SELECT u.id, nextval('outbox_commit_seq') AS seq
          FROM (SELECT id FROM outbox_events WHERE seq IS NULL ORDER BY id) AS u) AS t
    WHERE o.id = t.id;
  RETURN NULL;
END $$""",
    "DROP TRIGGER IF EXISTS outbox_commit_order ON outbox_events",
    "CREATE CONSTRAINT TRIGGER outbox_commit_order AFTER INSERT ON outbox_events "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outbox_stamp_commit_order()",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS outbox_commit_order ON outbox_events",
    "DROP FUNCTION IF EXISTS outbox_stamp_commit_order()",
    "DROP INDEX IF EXISTS outbox_events_unstamped",
    "DROP INDEX IF EXISTS outbox_events_unpublished_seq",
    "DROP SEQUENCE IF EXISTS outbox_commit_seq",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="social_flow", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        assert engine is not None
        for statement in SQL:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        assert engine is not None
        for statement in BACKWARDS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)

    return manager
