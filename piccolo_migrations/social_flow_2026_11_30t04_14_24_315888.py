from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T04:14:24:315888"
VERSION = "1.38.0"
DESCRIPTION = "payments indexes"

# fan_subscriptions_access serves the subscribers-only visibility check (viewer, author, access_until) on
# every post and video read; payments_bought serves "has the viewer bought this post"; the entry
# index serves balances (sums per account and currency).
STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS fan_subscriptions_access ON fan_subscriptions (subscriber, creator, access_until)",
    "CREATE INDEX IF NOT EXISTS payments_bought ON payments (post_id, payer) WHERE post_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ledger_entries_account ON ledger_entries (account, currency)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="social_flow", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
