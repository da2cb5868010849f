"""The closed vocabulary of channel names: parse and build them here, nowhere else.

Ids are the decimal strings of the platform's bigint ids; tags are lower-case word characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USER = "user"
HOME = "timeline:home"
PUBLIC = "timeline:public"
HASHTAG = "hashtag"
POST = "post"
LIVE = "live"
VIDEO = "video"

# kind -> pattern of its argument (None: the kind takes no argument)
_ID = re.compile(r"[1-9][0-9]{0,19}")
_TAG = re.compile(r"[^\W]{1,100}", re.UNICODE)
KINDS: dict[str, re.Pattern[str] | None] = {
    USER: _ID,
    HOME: _ID,
    PUBLIC: None,
    HASHTAG: _TAG,
    POST: _ID,
    LIVE: _ID,
    VIDEO: _ID,
}
MAX_NAME_LENGTH = 200
RECHECK = "sys:recheck"
"""Internal control channel (not subscribable by clients): "re-check these subscriptions" on every node."""


class InvalidChannel(ValueError):
    """The name is not in the vocabulary."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A parsed channel name: its ``kind`` (a key of ``KINDS``) and argument ('' when none)."""

    kind: str
    arg: str

    @property
    def name(self) -> str:
        return self.kind if not self.arg else f"{self.kind}:{self.arg}"


def parse(name: str) -> Channel:
    """Parse ``name`` or raise ``InvalidChannel``."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidChannel("channel name is empty or too long")
    if name == PUBLIC:
        return Channel(PUBLIC, "")
    kind, sep, arg = name.rpartition(":")
    pattern = KINDS.get(kind)
    if not sep or pattern is None or pattern.fullmatch(arg) is None:
        raise InvalidChannel(f"unknown channel {name!r}")
    if kind == HASHTAG and arg != arg.lower():
        raise InvalidChannel("hashtag channels are lower-case")
    return Channel(kind, arg)


def user(user_id: int | str) -> str:
    return f"{USER}:{int(user_id)}"


def home(user_id: int | str) -> str:
    return f"{HOME}:{int(user_id)}"


def public() -> str:
    return PUBLIC


def hashtag(tag: str) -> str:
    name = f"{HASHTAG}:{tag.lower()}"
    parse(name)
    return name


def post(post_id: int | str) -> str:
    return f"{POST}:{int(post_id)}"


def live(stream_id: int | str) -> str:
    return f"{LIVE}:{int(stream_id)}"


def video(video_id: int | str) -> str:
    return f"{VIDEO}:{int(video_id)}"


_EVENT = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


def valid_event(event: str) -> bool:
    """Event names are dotted lower-case words (``post.created``), at most 64 characters."""
    return isinstance(event, str) and len(event) <= 64 and _EVENT.fullmatch(event) is not None
