"""``python -m server seed``: a realistic data set loaded with COPY, with a progress bar.

Users get a skewed (power-law) follower distribution plus one celebrity followed by
``--celebrity-followers`` accounts; posts spread over the last 30 days with hashtags and mentions;
likes and comments skewed toward popular authors. Counters are computed here and written with the rows.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

_EPOCH_MS = 1_700_000_000_000
TAGS = [
    "news", "music", "python", "travel", "food", "art", "sports", "gaming", "movies", "science",
    "tech", "photography", "books", "fitness", "nature", "memes", "coding", "design", "cats", "dogs",
]  # fmt: skip
WORDS = "the a quick brown fox jumps over lazy dog social flow live video stream today great new love".split()


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.start, self._last = label, max(total, 1), 0, time.time(), 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.time()
        if now - self._last > 0.2 or self.done >= self.total:
            self._last = now
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            rate = self.done / max(now - self.start, 1e-6)
            sys.stderr.write(f"\r{self.label:<10} [{bar:<30}] {self.done:>10,}/{self.total:,} {rate:>10,.0f}/s")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _skewed(rng: random.Random, n: int, power: float = 3.0) -> int:
    """An index in [0, n) where low indexes are far likelier (a power-law-like popularity)."""
    return min(int(n * rng.random() ** power), n - 1)


def _snowflake(ts: datetime, seq: int) -> int:
    return ((int(ts.timestamp() * 1000) - _EPOCH_MS) << 16) | (seq & 0xFFFF)


async def _copy(
    conn: asyncpg.Connection,
    table: str,
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    bar: Progress,
    batch: int = 50_000,
) -> None:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            await conn.copy_records_to_table(table, records=chunk, columns=columns)
            bar.add(len(chunk))
            chunk = []
    if chunk:
        await conn.copy_records_to_table(table, records=chunk, columns=columns)
        bar.add(len(chunk))


async def seed(
    dsn: str,
    *,
    users: int,
    posts: int,
    likes: int,
    comments: int,
    celebrity_followers: int,
    follows_per_user: int,
    reset: bool,
    seed_value: int = 42,
) -> dict[str, int]:
    """Load the data set into the database at ``dsn``; the row counts."""
    from server import security

    rng = random.Random(seed_value)
    users = max(users, celebrity_followers + 1)
    conn = await asyncpg.connect(dsn)
    try:
        existing = await conn.fetchval("SELECT count(*) FROM users")
        if existing and not reset:
            raise SystemExit("seed: the database already has users; pass --reset to wipe social data first")
        if reset:
            await conn.execute(
                "TRUNCATE users, follows, follow_requests, blocks, mutes, posts, post_edits, post_likes, bookmarks, "
                "comments, comment_likes, reports, outbox_events CASCADE"
            )
        now = datetime.now(UTC)
        password_hash = security.hash_password("seed password 1")
        base = _snowflake(now - timedelta(days=60), 0) >> 16
        user_ids = [((base + i // 1024) << 16) | (i % 1024) for i in range(users)]

        # Follows: everybody (up to celebrity_followers) follows the celebrity (user 0); the rest is skewed.
        following: list[set[int]] = [set() for _ in range(users)]
        for i in range(1, celebrity_followers + 1):
            following[i].add(0)
        for i in range(users):
            for _ in range(rng.randint(0, follows_per_user * 2)):
                t = 1 + _skewed(rng, users - 1)
                if t != i:
                    following[i].add(t)
        followers_count = [0] * users
        for targets in following:
            for t in targets:
                followers_count[t] += 1
        n_follows = sum(len(s) for s in following)

        # Posts over the last 30 days, authors skewed toward popular accounts.
        span = timedelta(days=30).total_seconds()
        post_author = [_skewed(rng, users, 1.6) for _ in range(posts)]
        posts_count = [0] * users
        for a in post_author:
            posts_count[a] += 1
        like_pairs: set[tuple[int, int]] = set()
        while len(like_pairs) < likes:
            like_pairs.add(
                (_skewed(rng, posts, 0.5) if rng.random() < 0.5 else rng.randrange(posts), rng.randrange(users))
            )
        like_count = [0] * posts
        for p, _u in like_pairs:
            like_count[p] += 1
        comment_post = [rng.randrange(posts) for _ in range(comments)]
        comment_count = [0] * posts
        for p in comment_post:
            comment_count[p] += 1
        post_time = [now - timedelta(seconds=span * (1 - (i + 1) / (posts + 1))) for i in range(posts)]
        post_ids = [_snowflake(post_time[i], i) for i in range(posts)]

        def user_rows() -> Iterator[tuple[Any, ...]]:
            for i, uid in enumerate(user_ids):
                name = "celebrity" if i == 0 else f"user{i}"
                yield (uid, name, f"{name}@seed.example", f"{name}@seed.example", password_hash,
                       "The Celebrity" if i == 0 else f"User {i}", "", "user", False, "en", "UTC", False,
                       followers_count[i], len(following[i]), posts_count[i], now, now)  # fmt: skip

        def follow_rows() -> Iterator[tuple[Any, ...]]:
            seq = 0
            for i, targets in enumerate(following):
                for t in targets:
                    seq += 1
                    yield (_snowflake(now - timedelta(days=45), 0) + seq, user_ids[i], user_ids[t], now)

        def post_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(posts):
                tags = rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 20)))
                text = words + "".join(f" #{t}" for t in tags)
                vis = "public" if rng.random() < 0.9 else "followers"
                yield (post_ids[i], user_ids[post_author[i]], text, vis, tags, [], None,
                       like_count[i], comment_count[i], 0, post_time[i], None, None, None)  # fmt: skip

        def like_rows() -> Iterator[tuple[Any, ...]]:
            for seq, (p, u) in enumerate(like_pairs):
                yield (_snowflake(now - timedelta(days=50), 0) + seq, post_ids[p], user_ids[u], post_time[p])

        def comment_rows() -> Iterator[tuple[Any, ...]]:
            for seq, p in enumerate(comment_post):
                cid = _snowflake(now - timedelta(days=55), 0) + seq
                yield (cid, post_ids[p], user_ids[rng.randrange(users)],
                       None, " ".join(rng.choice(WORDS) for _ in range(6)), [], 0, 0, post_time[p], None)  # fmt: skip

        user_cols = ["id", "username", "email", "email_normalized", "password_hash", "display_name", "bio", "role",
                     "is_private", "locale", "timezone", "totp_enabled", "followers_count", "following_count",
                     "posts_count", "created_at", "updated_at"]  # fmt: skip
        await _copy(conn, "users", user_cols, user_rows(), Progress("users", users))
        await _copy(
            conn, "follows", ["id", "follower", "followee", "created_at"], follow_rows(), Progress("follows", n_follows)
        )
        post_cols = ["id", "author", "text", "visibility", "hashtags", "mentions", "repost_of", "like_count",
                     "comment_count", "repost_count", "created_at", "edited_at", "deleted_at",
                     "removed_by"]  # fmt: skip
        await _copy(conn, "posts", post_cols, post_rows(), Progress("posts", posts))
        like_cols = ["id", "post", "user", "created_at"]
        await _copy(conn, "post_likes", like_cols, like_rows(), Progress("likes", likes))
        comment_cols = ["id", "post", "author", "parent", "text", "mentions", "like_count", "reply_count",
                        "created_at", "deleted_at"]  # fmt: skip
        await _copy(conn, "comments", comment_cols, comment_rows(), Progress("comments", comments))
        await conn.execute("ANALYZE users, follows, posts, post_likes, comments")
    finally:
        await conn.close()
    return {"users": users, "follows": n_follows, "posts": posts, "likes": likes, "comments": comments}
