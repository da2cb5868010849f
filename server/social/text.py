"""Parsing post text: hashtags and @mentions, server-side."""

from __future__ import annotations

import re

# A tag or mention starts after a non-word character (or the start), so emails are not mentions.
_HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})", re.UNICODE)
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,30})(?![\w@])")


def hashtags(text: str) -> list[str]:
    """Lower-cased unique hashtags, in order of first appearance (purely numeric tags ignored)."""
    seen: dict[str, None] = {}
    for match in _HASHTAG.finditer(text):
        tag = match.group(1).lower()
        if not tag.isdigit():
            seen.setdefault(tag, None)
    return list(seen)[:30]


def mentions(text: str) -> list[str]:
    """Lower-cased unique @usernames, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)[:50]


def normalize_tag(tag: str) -> str | None:
    """A path's tag as stored (lower-case, no '#'), or ``None`` when it is not a tag."""
    tag = tag.lstrip("#").lower()
    return tag if re.fullmatch(r"\w{1,100}", tag) else None
