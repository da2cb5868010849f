from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T00:46:45:019811"
VERSION = "1.38.0"
DESCRIPTION = "social indexes and pg_trgm"

# Pair uniqueness makes follow/like/block idempotent (ON CONFLICT DO NOTHING); the (x, id DESC)
# indexes serve every keyset-paged feed; trigram indexes rank user search.
STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE UNIQUE INDEX IF NOT EXISTS follows_pair ON follows (follower, followee)",
    "CREATE INDEX IF NOT EXISTS follows_followee ON follows (followee, id DESC)",
    "CREATE INDEX IF NOT EXISTS follows_follower ON follows (follower, id DESC)",
    "CREATE UNIQUE INDEX IF NOT EXISTS follow_requests_pair ON follow_requests (requester, target)",
    "CREATE INDEX IF NOT EXISTS follow_requests_target ON follow_requests (target, id DESC)",
    "CREATE UNIQUE INDEX IF NOT EXISTS blocks_pair ON blocks (blocker, blocked)",
    "CREATE INDEX IF NOT EXISTS blocks_blocked ON blocks (blocked)",
    "CREATE UNIQUE INDEX IF NOT EXISTS mutes_pair ON mutes (muter, muted)",
    "CREATE UNIQUE INDEX IF NOT EXISTS post_likes_pair ON post_likes (post, \"user\")",
    "CREATE INDEX IF NOT EXISTS post_likes_user ON post_likes (\"user\", post)",
    "CREATE UNIQUE INDEX IF NOT EXISTS bookmarks_pair ON bookmarks (\"user\", post)",
    "CREATE UNIQUE INDEX IF NOT EXISTS comment_likes_pair ON comment_likes (comment, \"user\")",
    "CREATE INDEX IF NOT EXISTS posts_author_id ON posts (author, id DESC)",
    "CREATE INDEX IF NOT EXISTS posts_public_id ON posts (id DESC) WHERE visibility = 'public' AND deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS posts_hashtags ON posts USING gin (hashtags)",
    "CREATE INDEX IF NOT EXISTS posts_mentions ON posts USING gin (mentions)",
    "CREATE UNIQUE INDEX IF NOT EXISTS posts_one_repost ON posts (author, repost_of) "
    "WHERE repost_of IS NOT NULL AND deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS comments_post_id ON comments (post, id)",
    "CREATE INDEX IF NOT EXISTS users_username_trgm ON users USING gin (username gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS users_display_name_trgm ON users USING gin (display_name gin_trgm_ops)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="social_flow", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
