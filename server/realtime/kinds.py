"""The app's channel kinds: their names, argument shapes, history policies and presence, registered once.

``channels/`` knows how to parse, store and fan out channels of any vocabulary; this module is the app's
vocabulary (``VOCABULARY``, given to the gateway by ``server.runtime``) and the only place outside
``channels/names.py`` where channel names are spelled. Build names with the functions below.
"""

from __future__ import annotations

from channels.broker import HistoryPolicy
from channels.names import ID, TAG, Kind, Vocabulary

USER = "user"
HOME = "timeline:home"
PUBLIC = "timeline:public"
HASHTAG = "hashtag"
POST = "post"
LIVE = "live"
VIDEO = "video"

VOCABULARY = Vocabulary(
    [
        Kind(USER, ID),
        Kind(HOME, ID),
        Kind(PUBLIC, None),
        Kind(HASHTAG, TAG, lower_case=True),
        Kind(POST, ID),
        Kind(LIVE, ID),
        Kind(VIDEO, ID),
    ]
)

# How much history each kind keeps (``REALTIME_HISTORY`` overrides it per kind); any other: the broker's fallback.
HISTORY: dict[str, HistoryPolicy] = {
    USER: HistoryPolicy(200, 24 * 3600),
    HOME: HistoryPolicy(200, 3600),
    PUBLIC: HistoryPolicy(500, 600),
    HASHTAG: HistoryPolicy(200, 600),
    POST: HistoryPolicy(100, 600),
    LIVE: HistoryPolicy(1000, 300),  # chat, reactions and viewer counts share it: room for 5 minutes
}

# The kinds whose members presence tracks (who is in the live room).
PRESENCE: frozenset[str] = frozenset({LIVE})


def user(user_id: int | str) -> str:
    return f"{USER}:{int(user_id)}"


def home(user_id: int | str) -> str:
    return f"{HOME}:{int(user_id)}"


def public() -> str:
    return PUBLIC


def hashtag(tag: str) -> str:
    """``hashtag:<tag>`` (lower-cased); ``InvalidChannel`` when the tag is outside the vocabulary."""
    name = f"{HASHTAG}:{tag.lower()}"
    VOCABULARY.parse(name)
    return name


def post(post_id: int | str) -> str:
    return f"{POST}:{int(post_id)}"


def live(stream_id: int | str) -> str:
    return f"{LIVE}:{int(stream_id)}"


def video(video_id: int | str) -> str:
    return f"{VIDEO}:{int(video_id)}"
