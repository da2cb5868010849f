"""The user columns social's statements read: a summary (``USER_COLS``) and a profile (``PROFILE_COLS``).

Constants spliced into statements (never input), shared by social's, live's and notifications' SQL.
"""

from __future__ import annotations

USER_COLS = "id, username, display_name, avatar_url, followers_count, following_count, posts_count, is_private"
PROFILE_COLS = f"{USER_COLS}, bio, links, created_at"
