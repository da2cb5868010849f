"""Who gets a post: home timelines pushed on write, live events for online followers, public channels.

Authors with at least ``celebrity_threshold`` followers are not pushed (their posts are pulled at
read time); their live ``timeline:home`` events go only to followers active right now, looked up
from the (small) active set rather than scanning 100k follower rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from channels.names import InvalidChannel
from server import outbox
from server.realtime import kinds
from server.social import schemas
from server.social.media import MediaSigner
from server.social.queries import fanout as audience_queries
from server.social.runtime import SocialRuntime
from server.social.services.visibility import locked


class Audience(msgspec.Struct):
    push: list[int]
    live: list[int]
    public: bool


async def audience(rt: SocialRuntime, author: Any, visibility: str, mentions: list[int]) -> Audience:
    """``author`` is a users row (id, followers_count, is_private)."""
    aid = author["id"]
    online = set(await rt.online_among())
    if visibility == "private":
        members = [aid, *mentions]
        return Audience(push=members, live=[u for u in members if u in online], public=False)
    if visibility == "subscribers":
        members = [aid, *dict.fromkeys(await audience_queries.paying_subscribers(aid))]
        return Audience(push=members, live=[u for u in members if u in online], public=False)
    celebrity = author["followers_count"] >= rt.settings.celebrity_threshold
    if celebrity:
        followers = await audience_queries.unmuted_followers(aid, list(online))
        push = [aid]
        live = followers
    else:
        followers = await audience_queries.unmuted_followers(aid)
        push = [aid, *followers]
        live = [u for u in followers if u in online]
    if aid in online:
        live.append(aid)
    public = visibility == "public" and not author["is_private"]
    return Audience(push=push, live=live, public=public)


def neutral(post: schemas.Post) -> schemas.Post:
    """The post as nobody in particular sees it (for broadcast events)."""
    inner = neutral(post.repost_of) if post.repost_of is not None else None
    out = msgspec.structs.replace(
        post, liked_by_me=False, reposted_by_me=False, bookmarked_by_me=False, repost_of=inner
    )
    # A broadcast reaches people who have not bought a paid post: they get its teaser.
    return locked(out, out.price) if out.price is not None else out


def _hashtag_channels(hashtags: list[str]) -> list[str]:
    """The hashtag channels of ``hashtags``; a tag outside the vocabulary has no channel (nobody could subscribe)."""
    out = []
    for tag in hashtags:
        try:
            out.append(kinds.hashtag(tag))
        except InvalidChannel:
            continue
    return out


def _bound(post: schemas.Post) -> bool:
    """Whether ``post`` (or the post it reposts) carries image URLs bound to one viewer."""
    return any("?" in m.url for m in post.media) or (post.repost_of is not None and _bound(post.repost_of))


def rebound(post: schemas.Post, signer: MediaSigner, viewer: int) -> schemas.Post:
    """``post`` with its bound image URLs issued to ``viewer`` instead: one recipient's copy of a broadcast."""
    media = [
        msgspec.structs.replace(m, url=signer.url(m.url.partition("?")[0], viewer)) if "?" in m.url else m
        for m in post.media
    ]
    inner = rebound(post.repost_of, signer, viewer) if post.repost_of is not None else None
    return msgspec.structs.replace(post, media=media, repost_of=inner)


def per_recipient(post: schemas.Post, signer: MediaSigner) -> Callable[[int], schemas.Post] | None:
    """For a post whose images open only by bound URLs: each recipient's copy, with URLs bound to them (a URL
    issued to its author would open for every recipient as long as the author may see the post)."""
    if not _bound(post):
        return None
    return lambda viewer: rebound(post, signer, viewer)


async def emit_post_event(
    event: str,
    aud: Audience,
    post_id: int,
    hashtags: list[str],
    data: Any,
    *,
    for_user: Callable[[int], Any] | None = None,
    actor: int | None = None,
) -> None:
    """``post.created`` / ``post.deleted`` to every channel the post reaches, in the caller's transaction.

    ``for_user(u)``: the data for user ``u``'s own channel (``0`` for the public ones) when it differs per
    recipient (``per_recipient``); ``data`` for everyone otherwise. ``actor`` (the author, for
    ``post.created``): sockets of users in a block relation with them get ``hidden`` instead, as the feeds
    leave the post out for them (a deletion is sent to everyone: a client drops what it may have shown).
    """
    out: list[tuple[str, str, Any]] = [
        (kinds.home(u), event, for_user(u) if for_user else data) for u in dict.fromkeys(aud.live)
    ]
    if aud.public:
        shared = for_user(0) if for_user else data
        out.append((kinds.public(), event, shared))
        out.extend((channel, event, shared) for channel in _hashtag_channels(hashtags))
    if event == "post.deleted":
        out.append((kinds.post(post_id), event, data))
    await outbox.emit_many(out, actor=actor)
