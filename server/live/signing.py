"""Live playback tokens: a live stream's signed, expiring HLS URL and the check the media server asks for.

The token format and its key are ``server.video.signing``'s, under the ``live`` scope (a key of its own):
this module only says where a live stream's playlist is and which token opens it.
"""

from __future__ import annotations

from server.params import as_id
from server.settings import LiveSettings
from server.video import signing


def playback_url(settings: LiveSettings, secret: str, stream_id: int) -> str:
    """The HLS playlist nginx-rtmp writes under the stream id (the publish was redirected to it), behind
    a signed, expiring token in the path: nginx asks the app (``POST /live/hooks/playback``) before serving
    the playlist or a segment, and the playlist's relative segment names carry the token along."""
    token, _ = signing.sign(secret, stream_id, settings.playback_ttl, scope="live")
    return f"{settings.hls_url}/{stream_id}/{token}/index.m3u8"


def playback_allowed(secret: str, stream_id: str, token: str) -> bool:
    """Whether ``token`` is a valid, unexpired playback token for the stream ``stream_id``."""
    sid = as_id(stream_id)
    if sid is None or len(token) > 64:
        return False
    return signing.verify(secret, sid, token, scope="live") is not None
