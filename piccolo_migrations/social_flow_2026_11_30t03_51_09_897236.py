from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T03:51:09:897236"
VERSION = "1.38.0"
DESCRIPTION = "ads: unique (campaign, day) stats, campaigns by advertiser"


class RawSQL(Table):
    """Only to run statements on the migration's engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="social_flow", description=DESCRIPTION)

    async def run():
        # Flushes upsert one row per (campaign, day), so the pair is unique; an advertiser's campaign
        # list pages by id.
        await RawSQL.raw("CREATE UNIQUE INDEX ad_daily_stats_campaign_day_idx ON ad_daily_stats (campaign, day)")
        await RawSQL.raw("CREATE INDEX ad_campaigns_advertiser_id_idx ON ad_campaigns (advertiser, id DESC)")

    manager.add_raw(run)
    return manager
