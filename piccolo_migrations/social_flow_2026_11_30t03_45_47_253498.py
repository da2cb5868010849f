from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T03:45:47:253498"
VERSION = "1.38.0"
DESCRIPTION = "video indexes and search"

# Pair uniqueness makes likes and view heartbeats idempotent (ON CONFLICT); the (x, id DESC) indexes
# serve the keyset-paged lists; full-text (simple dictionary: titles are any language) plus trigram
# (typos) serve search; GIN on tags serves "related" and tag filters.
STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE UNIQUE INDEX IF NOT EXISTS video_likes_pair ON video_likes (video, "user")',
    "CREATE UNIQUE INDEX IF NOT EXISTS video_views_session ON video_views (video, session_id)",
    "CREATE INDEX IF NOT EXISTS video_views_viewer ON video_views (video, viewer_key, counted_at)",
    "CREATE INDEX IF NOT EXISTS videos_ready_id ON videos (id DESC) WHERE status = 'ready' AND deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS videos_owner_id ON videos (owner, id DESC)",
    "CREATE INDEX IF NOT EXISTS videos_tags ON videos USING gin (tags)",
    "CREATE INDEX IF NOT EXISTS videos_search_fts ON videos USING gin (to_tsvector('simple', search_text))",
    "CREATE INDEX IF NOT EXISTS videos_search_trgm ON videos USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS videos_upload_expiry ON videos (upload_expires_at) WHERE status = 'uploading'",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="social_flow", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
