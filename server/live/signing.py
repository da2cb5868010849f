"""Live playback tokens: a live stream's HLS URL, bound to its viewer, and the check the media server asks for.

The token is ``server.video.signing``'s bound token (``sign_for``: ``{expires}-{viewer}-{signature}``)
under the ``live-viewer`` scope (a key of its own): this module only says where a live stream's playlist
is, which token opens it, and for whom. The playback hook honours a token only while the viewer it names
may still see the stream (``LiveRuntime.may_play``), so a block, an unfollow or the stream made private
closes an issued URL instead of leaving it open until it expires.
"""

from __future__ import annotations

from server.params import as_id
from server.settings import LiveSettings
from server.video import signing

SCOPE = "live-viewer"


def playback_url(settings: LiveSettings, secret: str, stream_id: int, viewer: int) -> str:
    """The HLS playlist nginx-rtmp writes under the stream id (the publish was redirected to it), behind
    a token for ``viewer`` (0: anonymous) in the path: nginx asks the app (``POST /live/hooks/playback``)
    before serving the playlist or a segment, and the playlist's relative segment names carry the token along."""
    token, _ = signing.sign_for(secret, stream_id, viewer, settings.playback_ttl, scope=SCOPE)
    return f"{settings.hls_url}/{stream_id}/{token}/index.m3u8"


def playback_grant(secret: str, stream_id: str, token: str) -> tuple[int, int] | None:
    """``(stream id, viewer)`` of a valid, unexpired playback token for the stream ``stream_id``; else ``None``."""
    sid = as_id(stream_id)
    if sid is None or len(token) > 64:
        return None
    grant = signing.verify_for(secret, sid, token, scope=SCOPE)
    return None if grant is None else (sid, grant[1])
